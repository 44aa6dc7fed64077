package storetest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Parallel runs b.N steps spread over workers goroutines, each calling
// step(worker, op) until the ops run out, and reports the rate as unit/s
// with the p50 and p99 of a step — the commit benchmarks of both stores
// measure alike.
func Parallel(b *testing.B, workers int, unit string, step func(worker int, op int64) error) {
	var (
		next      atomic.Int64
		wg        sync.WaitGroup
		latencies = make([][]time.Duration, workers)
		errs      = make([]error, workers)
	)
	b.ResetTimer()
	for g := range workers {
		wg.Go(func() {
			for {
				op := next.Add(1)
				if op > int64(b.N) {
					return
				}
				start := time.Now()
				if err := step(g, op); err != nil {
					errs[g] = err
					return
				}
				latencies[g] = append(latencies[g], time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	all := slices.Sorted(slices.Values(slices.Concat(latencies...)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}
