package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratavideo/strata/cluster/index/corpus"
)

// Names of the systems compared.
const (
	sysStrata   = "strata"
	sysPostgres = "postgres"
)

// measured is one repeat's figures for one system.
type measured struct {
	build     time.Duration
	indexSize int64
	allSize   int64
	runs      []loadRun // one per number of clients, in -clients order
	quality   quality   // from the first run's answers
}

// runCompare builds and queries each system -repeat times and prints the
// medians. The systems run one after the other, never together, so each
// has the machine's two cores to itself (apart from the clients, which
// run in this process for both).
func runCompare(ctx context.Context, o options, work string, videos []corpus.Video) error {
	var clients []int
	for _, s := range splitList(o.clients) {
		c, err := strconv.Atoi(s)
		if err != nil || c < 1 {
			return fmt.Errorf("-clients: %q is not a number of clients", s)
		}
		clients = append(clients, c)
	}
	systems := splitList(o.systems)
	for _, s := range systems {
		if s != sysStrata && s != sysPostgres {
			return fmt.Errorf("-systems: unknown system %q (want strata, postgres)", s)
		}
	}
	if len(clients) == 0 || len(systems) == 0 || o.repeat < 1 || o.queries < 1 {
		return fmt.Errorf("nothing to measure: give -clients, -systems, -repeat and -queries")
	}
	mix := makeMix(videos, o.seed, o.warmup+o.queries)
	warm, timed := mix[:o.warmup], mix[o.warmup:]
	describeMix(timed)
	fmt.Printf("clients: %v at a time, closed loop; strata: one node in this process, %d writers\n", clients, o.writers)

	var pg *pgEnv
	if slices.Contains(systems, sysPostgres) {
		var err error
		if pg, err = preparePostgres(o.pgBin); err != nil {
			return err
		}
		fmt.Printf("postgres: %s, run as uid %d\n", pg.bin, pg.uid)
	}
	results := map[string][]measured{}
	for r := 1; r <= o.repeat; r++ {
		fmt.Printf("\n== repeat %d of %d (load average %s)\n", r, o.repeat, loadAverage())
		for _, sys := range systems {
			var m measured
			var err error
			switch sys {
			case sysStrata:
				m, err = measureStrata(ctx, o, filepath.Join(work, fmt.Sprintf("strata-%d", r)), videos, warm, timed, clients)
			case sysPostgres:
				m, err = measurePostgres(ctx, pg, videos, warm, timed, clients, r == 1, o.plan)
			}
			if err != nil {
				return fmt.Errorf("%s, repeat %d: %w", sys, r, err)
			}
			results[sys] = append(results[sys], m)
		}
	}
	summarize(o, systems, clients, results)
	return nil
}

// measureStrata starts a node in dir, builds its index through Raft and
// runs the mix through the HTTP API; the node's files are removed after.
func measureStrata(ctx context.Context, o options, dir string, videos []corpus.Video, warm, timed []query, clients []int) (m measured, err error) {
	defer os.RemoveAll(dir)
	n, err := startStrata(dir)
	if err != nil {
		return m, err
	}
	defer func() {
		if e := n.stop(); e != nil && err == nil {
			err = fmt.Errorf("stop: %w", e)
		}
	}()
	if m.build, err = n.build(ctx, videos, o.writers); err != nil {
		return m, err
	}
	if m.indexSize, m.allSize, err = n.sizes(); err != nil {
		return m, err
	}
	fmt.Printf("strata   build %6.1fs  index %6.1f MB  data folder %6.1f MB\n", m.build.Seconds(), mb(m.indexSize), mb(m.allSize))
	h := newHTTPSearcher(n.base, slices.Max(clients))
	defer h.close()
	searchers := func(c int) ([]searcher, func(), error) {
		s := make([]searcher, c)
		for i := range s {
			s[i] = h
		}
		return s, func() {}, nil
	}
	err = timeMix(ctx, sysStrata, warm, timed, clients, searchers, &m)
	return m, err
}

// measurePostgres starts a server, loads and indexes the videos and runs
// the mix through the driver, one connection per client; the server and
// its folder are gone after. The first repeat prints the query plan check.
func measurePostgres(ctx context.Context, env *pgEnv, videos []corpus.Video, warm, timed []query, clients []int, check, showPlan bool) (m measured, err error) {
	s, err := startPostgres(ctx, env)
	if err != nil {
		return m, err
	}
	defer s.stop()
	c, err := s.connect(ctx)
	if err != nil {
		return m, fmt.Errorf("connect: %w", err)
	}
	defer c.Close(context.Background())
	if m.build, err = s.load(ctx, c, videos); err != nil {
		return m, err
	}
	if m.indexSize, m.allSize, err = s.sizes(ctx, c); err != nil {
		return m, err
	}
	fmt.Printf("postgres build %6.1fs  index %6.1f MB  tables     %6.1f MB\n", m.build.Seconds(), mb(m.indexSize), mb(m.allSize))
	if check {
		uses, plan, err := explain(ctx, c, timed[0].text, showPlan)
		if err != nil {
			return m, err
		}
		if uses {
			fmt.Printf("postgres EXPLAIN %q: the trigram CTE reads the GIN index (Bitmap Index Scan on video_title_trigram)\n", timed[0].text)
		} else {
			fmt.Printf("postgres EXPLAIN %q: the GIN index is NOT used:\n%s\n", timed[0].text, plan)
		}
		if uses && showPlan {
			fmt.Println(plan)
		}
	}
	searchers := func(n int) ([]searcher, func(), error) {
		var out []searcher
		closeAll := func() {
			for _, x := range out {
				x.(*pgSearcher).c.Close(context.Background())
			}
		}
		for range n {
			conn, err := s.connect(ctx)
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("connect: %w", err)
			}
			out = append(out, &pgSearcher{c: conn})
		}
		return out, closeAll, nil
	}
	err = timeMix(ctx, sysPostgres, warm, timed, clients, searchers, &m)
	return m, err
}

// timeMix warms a system up with one client, then runs the timed mix with
// each number of clients, and judges the answers of the first run.
func timeMix(ctx context.Context, sys string, warm, timed []query, clients []int, searchers func(int) ([]searcher, func(), error), m *measured) error {
	if len(warm) > 0 {
		s, done, err := searchers(1)
		if err != nil {
			return err
		}
		_, err = drive(ctx, warm, s)
		done()
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	for i, c := range clients {
		s, done, err := searchers(c)
		if err != nil {
			return err
		}
		run, err := drive(ctx, timed, s)
		done()
		if err != nil {
			return fmt.Errorf("%d clients: %w", c, err)
		}
		m.runs = append(m.runs, run)
		if i == 0 {
			m.quality = judge(timed, run.titles)
		}
		fmt.Printf("%-8s %d client(s): p50 %8s  p99 %8s  %7.1f q/s\n", sys, c, ms(run.pct(50)), ms(run.pct(99)), run.qps())
	}
	q := m.quality
	fmt.Printf("%-8s typo recall %.0f%%; no hits: %.0f%% of one-word, %.0f%% of two-word, %.0f%% of typo queries\n",
		sys, 100*q.typoRecall, 100*q.empty[oneWord], 100*q.empty[twoWords], 100*q.empty[typo])
	return nil
}

// summarize prints the medians over the repeats and the ratios of the
// first system to the second.
func summarize(o options, systems []string, clients []int, results map[string][]measured) {
	med := func(sys string, f func(measured) float64) float64 {
		var xs []float64
		for _, m := range results[sys] {
			xs = append(xs, f(m))
		}
		slices.Sort(xs)
		if len(xs)%2 == 1 {
			return xs[len(xs)/2]
		}
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	type row struct {
		name   string
		f      func(measured) float64
		format func(float64) string
		ratio  bool
	}
	secs := func(x float64) string { return fmt.Sprintf("%.1f s", x) }
	msf := func(x float64) string { return fmt.Sprintf("%.2f ms", x) }
	rows := []row{
		{"index build", func(m measured) float64 { return m.build.Seconds() }, secs, true},
		// Not a like-for-like size: Strata indexes titles, descriptions,
		// tags and owners; PeerTube's trigram index covers titles only.
		{"search index on disk", func(m measured) float64 { return mb(m.indexSize) }, func(x float64) string { return fmt.Sprintf("%.1f MB", x) }, false},
	}
	for i, c := range clients {
		name := fmt.Sprintf("%d client", c)
		if c > 1 {
			name += "s"
		}
		rows = append(rows,
			row{name + ": p50", func(m measured) float64 { return float64(m.runs[i].pct(50).Microseconds()) / 1000 }, msf, false},
			row{name + ": p99", func(m measured) float64 { return float64(m.runs[i].pct(99).Microseconds()) / 1000 }, msf, false},
			row{name + ": queries/s", func(m measured) float64 { return m.runs[i].qps() }, func(x float64) string { return fmt.Sprintf("%.1f", x) }, true},
		)
	}
	rows = append(rows,
		row{"typo recall (top 20)", func(m measured) float64 { return 100 * m.quality.typoRecall }, func(x float64) string { return fmt.Sprintf("%.0f %%", x) }, false},
		row{"one-word queries, no hit", func(m measured) float64 { return 100 * m.quality.empty[oneWord] }, func(x float64) string { return fmt.Sprintf("%.1f %%", x) }, false},
		row{"two-word queries, no hit", func(m measured) float64 { return 100 * m.quality.empty[twoWords] }, func(x float64) string { return fmt.Sprintf("%.1f %%", x) }, false},
	)
	label := map[string]string{sysStrata: "Strata (HTTP API)", sysPostgres: "PostgreSQL (driver)"}
	fmt.Printf("\n== summary: %d videos, %d queries per run, medians of %d repeat(s), load average %s\n",
		o.n, o.queries, o.repeat, loadAverage())
	header := fmt.Sprintf("%-26s", "")
	for _, s := range systems {
		header += fmt.Sprintf(" %20s", label[s])
	}
	both := len(systems) == 2 && systems[0] == sysStrata
	if both {
		header += fmt.Sprintf(" %16s", "Strata/Postgres")
	}
	fmt.Println(header)
	for _, r := range rows {
		line := fmt.Sprintf("%-26s", r.name)
		var vals []float64
		for _, s := range systems {
			v := med(s, r.f)
			vals = append(vals, v)
			line += fmt.Sprintf(" %20s", r.format(v))
		}
		if both && r.ratio && vals[1] > 0 {
			line += fmt.Sprintf(" %15.2fx", vals[0]/vals[1])
		}
		fmt.Println(line)
	}
	if both {
		fmt.Println("(Strata/Postgres divides the columns: above 1 a build is slower, queries/s higher, in Strata.)")
	}
	if slices.Contains(systems, sysPostgres) {
		fmt.Println(strings.TrimSpace(`
PostgreSQL's figures are PeerTube's search query through a Go driver: PeerTube's
cost minus its HTTP layer (Node.js, Sequelize, JSON), its joins to channels and
accounts, its count query and its loading of the page's records. Strata's are
its whole HTTP API (facets, highlights and records included), client and server
sharing this machine's cores.`))
	}
}

func mb(n int64) float64 { return float64(n) / 1e6 }
