package metrics

import (
	"bytes"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Go runtime's and the process's standard families, under the names
// and types Prometheus's Go client gives them, so existing dashboards and
// alerts work unchanged.

// goFamilies reads the Go runtime's state.
func goFamilies() []*family {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fams := []*family{
		gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine())),
		gauge("go_threads", "Number of OS threads created.", float64(threads())),
		gauge("go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute user-level Go code simultaneously.", float64(runtime.GOMAXPROCS(0))),
		gauge("go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use.", float64(ms.Alloc)),
		counter("go_memstats_alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already.", float64(ms.TotalAlloc)),
		gauge("go_memstats_sys_bytes", "Number of bytes obtained from system.", float64(ms.Sys)),
		counter("go_memstats_mallocs_total", "Total number of heap objects allocated, both live and gc-ed.", float64(ms.Mallocs)),
		counter("go_memstats_frees_total", "Total number of heap objects frees.", float64(ms.Frees)),
		gauge("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use.", float64(ms.HeapAlloc)),
		gauge("go_memstats_heap_sys_bytes", "Number of heap bytes obtained from system.", float64(ms.HeapSys)),
		gauge("go_memstats_heap_idle_bytes", "Number of heap bytes waiting to be used.", float64(ms.HeapIdle)),
		gauge("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", float64(ms.HeapInuse)),
		gauge("go_memstats_heap_released_bytes", "Number of heap bytes released to OS.", float64(ms.HeapReleased)),
		gauge("go_memstats_heap_objects", "Number of currently allocated objects.", float64(ms.HeapObjects)),
		gauge("go_memstats_stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments.", float64(ms.StackInuse)),
		gauge("go_memstats_stack_sys_bytes", "Number of bytes obtained from system for stack allocator.", float64(ms.StackSys)),
		gauge("go_memstats_mspan_inuse_bytes", "Number of bytes in use by mspan structures.", float64(ms.MSpanInuse)),
		gauge("go_memstats_mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system.", float64(ms.MSpanSys)),
		gauge("go_memstats_mcache_inuse_bytes", "Number of bytes in use by mcache structures.", float64(ms.MCacheInuse)),
		gauge("go_memstats_mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system.", float64(ms.MCacheSys)),
		gauge("go_memstats_buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table.", float64(ms.BuckHashSys)),
		gauge("go_memstats_gc_sys_bytes", "Number of bytes used for garbage collection system metadata.", float64(ms.GCSys)),
		gauge("go_memstats_other_sys_bytes", "Number of bytes used for other system allocations.", float64(ms.OtherSys)),
		gauge("go_memstats_next_gc_bytes", "Number of heap bytes when next garbage collection will take place.", float64(ms.NextGC)),
		gauge("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", float64(ms.LastGC)/1e9),
	}
	fams = append(fams,
		gauge("go_gc_gogc_percent", "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function.", gogc()),
		// A negative limit reads the limit without changing it.
		gauge("go_gc_gomemlimit_bytes", "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function.", float64(debug.SetMemoryLimit(-1))))
	info := &family{name: "go_info", help: "Information about the Go environment.", typ: typeGauge}
	info.add(1, []string{"version"}, runtime.Version())
	fams = append(fams, info)

	// The stop-the-world pauses, as a summary with the quartiles.
	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&gc)
	pauses := &family{name: "go_gc_duration_seconds", help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", typ: typeSummary}
	for i, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		pauses.add(gc.PauseQuantiles[i].Seconds(), []string{"quantile"}, q)
	}
	pauses.samples = append(pauses.samples,
		sample{suffix: "_sum", value: gc.PauseTotal.Seconds()},
		sample{suffix: "_count", value: float64(gc.NumGC)})
	return append(fams, pauses)
}

// gogc is the GOGC setting: rotor never changes it at run time, so the
// environment's (-1 for off).
func gogc() float64 {
	v := os.Getenv("GOGC")
	if strings.EqualFold(v, "off") {
		return -1
	}
	if n, err := strconv.Atoi(v); err == nil {
		return float64(n)
	}
	return 100
}

// threads is the number of OS threads the runtime has created.
func threads() int {
	n, _ := runtime.ThreadCreateProfile(nil)
	return n
}

// clockTicks is Linux's USER_HZ, the unit of /proc's CPU times: 100 on
// every architecture Go supports.
const clockTicks = 100

// processFamilies reads the process's CPU, memory and descriptors from
// /proc; elsewhere, and when /proc cannot be read, there are none.
func processFamilies() []*family {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return nil
	}
	// The fields after the command, which is in parentheses and may hold
	// spaces: state is field 3 of proc(5), so f[i] is field i+3.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return nil
	}
	f := bytes.Fields(stat[end+1:])
	if len(f) < 22 {
		return nil
	}
	field := func(n int) float64 {
		v, _ := strconv.ParseFloat(string(f[n-3]), 64)
		return v
	}
	fams := []*family{
		counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", (field(14)+field(15))/clockTicks),
		gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", field(23)),
		gauge("process_resident_memory_bytes", "Resident memory size in bytes.", field(24)*float64(os.Getpagesize())),
	}
	if boot, ok := bootTime(); ok {
		fams = append(fams, gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", boot+field(22)/clockTicks))
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		fams = append(fams, gauge("process_open_fds", "Number of open file descriptors.", float64(len(fds))))
	}
	if limits, err := os.ReadFile("/proc/self/limits"); err == nil {
		if n, ok := softLimit(limits, "Max open files"); ok {
			fams = append(fams, gauge("process_max_fds", "Maximum number of open file descriptors.", n))
		}
		if n, ok := softLimit(limits, "Max address space"); ok {
			fams = append(fams, gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", n))
		}
	}
	if in, out, ok := networkBytes(); ok {
		fams = append(fams,
			counter("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", in),
			counter("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", out))
	}
	return fams
}

// bootTime is the btime line of /proc/stat: when the system booted, read
// once.
var bootTime = sync.OnceValues(func() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			t, err := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
			return t, err == nil
		}
	}
	return 0, false
})

// softLimit is the soft limit of the /proc/self/limits line named; an
// unlimited one is the largest uint64, as Prometheus's client reports it.
func softLimit(limits []byte, name string) (float64, bool) {
	for line := range bytes.Lines(limits) {
		if v, ok := bytes.CutPrefix(line, []byte(name+" ")); ok {
			f := bytes.Fields(v)
			if len(f) == 0 {
				return 0, false
			}
			if string(f[0]) == "unlimited" {
				return math.MaxUint64, true
			}
			n, err := strconv.ParseFloat(string(f[0]), 64)
			return n, err == nil
		}
	}
	return 0, false
}

// networkBytes is InOctets and OutOctets of /proc/self/net/netstat's IpExt
// lines (a header line of names, then one of values): the bytes of the
// process's network namespace.
func networkBytes() (in, out float64, ok bool) {
	b, err := os.ReadFile("/proc/self/net/netstat")
	if err != nil {
		return 0, 0, false
	}
	return parseNetstat(b)
}

func parseNetstat(b []byte) (in, out float64, ok bool) {
	var names []string
	for line := range bytes.Lines(b) {
		rest, found := bytes.CutPrefix(line, []byte("IpExt:"))
		if !found {
			continue
		}
		f := strings.Fields(string(rest))
		if names == nil {
			names = f
			continue
		}
		var gotIn, gotOut bool
		for i, n := range names {
			if i >= len(f) {
				break
			}
			v, err := strconv.ParseFloat(f[i], 64)
			switch {
			case err != nil:
			case n == "InOctets":
				in, gotIn = v, true
			case n == "OutOctets":
				out, gotOut = v, true
			}
		}
		return in, out, gotIn && gotOut
	}
	return 0, 0, false
}

func gauge(name, help string, v float64) *family {
	return &family{name: name, help: help, typ: typeGauge, samples: []sample{{value: v}}}
}

func counter(name, help string, v float64) *family {
	return &family{name: name, help: help, typ: typeCounter, samples: []sample{{value: v}}}
}
