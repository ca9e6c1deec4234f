package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/awumeter/awumeter/internal/config"
	"github.com/awumeter/awumeter/internal/service"
	"github.com/awumeter/awumeter/internal/testenv"
)

// start starts a service of cfg and shuts it down when the test ends (a
// second Shutdown is harmless). ctx bounds the test's waits: two minutes.
func start(t *testing.T, cfg config.Config) (*service.Service, context.Context) {
	t.Helper()
	svc, err := service.New(cfg, service.Settings{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testenv.Context(t, 2*time.Minute)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Shutdown(context.Background()) })
	return svc, ctx
}
