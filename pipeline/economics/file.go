package economics

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/awumeter/awumeter/internal/strictyaml"
)

// File is an economics file: assumptions for every tenant, and per-tenant
// overrides. Each key a section leaves out keeps the value above it: the
// tenant's section over the default section over DefaultAssumptions.
//
//	default:
//	  handle_minutes: 12
//	tenants:
//	  acme:
//	    wage_per_hour: 24.10
//	    ai_cost_per_case: 1.40
type File struct {
	Default Assumptions
	Tenants map[string]Assumptions
}

// fileYAML is a File as written, its sections still to be laid over
// their defaults.
type fileYAML struct {
	Default yaml.Node            `yaml:"default"`
	Tenants map[string]yaml.Node `yaml:"tenants"`
}

// Load reads an economics file, refusing unknown keys, and validates
// every section, naming each problem by its key.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse is Load of the file's bytes.
func Parse(data []byte) (*File, error) {
	var raw fileYAML
	if err := strictyaml.Decode(data, &raw); err != nil && !errors.Is(err, strictyaml.ErrEmpty) {
		return nil, err
	}
	f := &File{Default: DefaultAssumptions(), Tenants: map[string]Assumptions{}}
	var errs []error
	if raw.Default.Kind != 0 {
		if err := strictyaml.DecodeNode(&raw.Default, &f.Default); err != nil {
			errs = append(errs, fmt.Errorf("default: %w", err))
		}
	}
	errs = append(errs, f.Default.Validate("default."))
	names := make([]string, 0, len(raw.Tenants))
	for name := range raw.Tenants {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		n := raw.Tenants[name]
		a := f.Default
		if n.Kind != 0 {
			if err := strictyaml.DecodeNode(&n, &a); err != nil {
				errs = append(errs, fmt.Errorf("tenants.%s: %w", name, err))
				continue
			}
		}
		errs = append(errs, a.Validate("tenants."+name+"."))
		f.Tenants[name] = a
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f, nil
}

// For returns the assumptions of a tenant: its own section, else the
// default section.
func (f *File) For(tenant string) Assumptions {
	if a, ok := f.Tenants[tenant]; ok {
		return a
	}
	return f.Default
}
