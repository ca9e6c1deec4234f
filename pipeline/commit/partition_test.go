package commit

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

func committable(p *Partition) int64 {
	off, _ := p.Committable()
	return off
}

func TestMarkWithoutWorkIsCommittableAtOnce(t *testing.T) {
	p := NewPartition(-1)
	p.Mark(10)
	if off, ok := p.Committable(); !ok || off != 10 {
		t.Fatalf("Committable() = %d, %v; want 10, true", off, ok)
	}
	p.Committed(10)
	if _, ok := p.Committable(); ok {
		t.Fatal("an offset already committed is committable again")
	}
}

func TestMarkWaitsForEveryEarlierTicket(t *testing.T) {
	p := NewPartition(-1)
	a := p.Begin()
	p.Mark(5)
	b := p.Begin()
	p.Mark(9)
	if got := committable(p); got != -1 {
		t.Fatalf("committable %d before any ack", got)
	}
	b.Done() // later ticket first: nothing moves
	if got := committable(p); got != -1 {
		t.Fatalf("committable %d with the first ticket still open", got)
	}
	a.Done()
	if got := committable(p); got != 9 {
		t.Fatalf("committable %d after both acks, want 9", got)
	}
}

func TestLaterWorkDoesNotHoldBackAnEarlierMark(t *testing.T) {
	p := NewPartition(-1)
	a := p.Begin()
	p.Mark(5)
	p.Begin() // never acknowledged
	p.Mark(9)
	a.Done()
	if got := committable(p); got != 5 {
		t.Fatalf("committable %d, want 5", got)
	}
}

func TestCommitsNeverGoBackwards(t *testing.T) {
	p := NewPartition(100)
	p.Mark(50)
	if _, ok := p.Committable(); ok {
		t.Fatal("a mark below the committed offset became committable")
	}
	p.Mark(120)
	p.Mark(110)
	if got := committable(p); got != 120 {
		t.Fatalf("committable %d, want 120", got)
	}
}

func TestWaitReturnsWhenOutstandingWorkIsDone(t *testing.T) {
	p := NewPartition(-1)
	a := p.Begin()
	go func() {
		time.Sleep(10 * time.Millisecond)
		a.Done()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Outstanding() != 0 {
		t.Fatal("outstanding work after Wait")
	}
	p.Begin()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); err == nil {
		t.Fatal("Wait returned with a ticket open")
	}
}

// Whatever order acknowledgements come in, the committable offset is the
// highest mark whose earlier tickets are all done.
func TestCommittableMatchesAModelUnderRandomAckOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		p := NewPartition(-1)
		var tickets []Ticket
		type m struct {
			before int
			offset int64
		}
		var marks []m
		off := int64(0)
		for i := 0; i < 30; i++ {
			for j := rng.IntN(3); j > 0; j-- {
				tickets = append(tickets, p.Begin())
			}
			off += int64(1 + rng.IntN(5))
			p.Mark(off)
			marks = append(marks, m{len(tickets), off})
		}
		done := make([]bool, len(tickets))
		for _, i := range rng.Perm(len(tickets)) {
			tickets[i].Done()
			done[i] = true
			prefix := 0
			for prefix < len(done) && done[prefix] {
				prefix++
			}
			want := int64(-1)
			for _, mk := range marks {
				if mk.before <= prefix {
					want = mk.offset
				}
			}
			if got := committable(p); got != want {
				t.Fatalf("round %d: committable %d, want %d", round, got, want)
			}
		}
	}
}
