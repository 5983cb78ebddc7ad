package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratavideo/strata/cluster/index/corpus"
	"github.com/stratavideo/strata/cluster/model"
	"github.com/stratavideo/strata/deploy/loopport"
)

// PeerTube's search, as its video list query builder writes it
// (server/core/models/video/sql/video/videos-id-list-query-builder.ts,
// whereSearch): a trigram CTE over the lower-cased, unaccented title, with
// the `%` operator (which the GIN index serves; `similarity(...) > 0.3`
// would scan the table) or a substring LIKE, joined to the videos, plus an
// exact tag match; ranked by similarity. Only what search needs is here:
// PeerTube also joins the channel, account, server and blocklists, counts
// the total in a second query and loads the page's models in a third, so
// this is a lower bound of its database work, and it has no HTTP layer.
// Anonymous viewers see only public (privacy 1), published (state 1)
// videos, as in PeerTube.
const pgSearch = `WITH "trigramSearch" AS (
  SELECT video.id, similarity(lower(immutable_unaccent(video.title)), lower(immutable_unaccent($1))) AS similarity
  FROM video
  WHERE lower(immutable_unaccent(video.title)) % lower(immutable_unaccent($1))
     OR lower(immutable_unaccent(video.title)) LIKE lower(immutable_unaccent($2))
)
SELECT video.id, video.title
FROM video
LEFT JOIN "trigramSearch" ON video.id = "trigramSearch".id
WHERE video.privacy = 1 AND video.state = 1
  AND ("trigramSearch".id IS NOT NULL OR EXISTS (
    SELECT 1 FROM video_tag INNER JOIN tag ON tag.id = video_tag.tag_id
    WHERE lower(tag.name) = lower($1) AND video.id = video_tag.video_id))
ORDER BY COALESCE("trigramSearch".similarity, 0) DESC, video.id ASC
LIMIT 20`

// pgSchema is created before the clock starts; the tables get their keys
// and indexes after the load, which is the fastest way to fill them.
const pgSchema = `
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE OR REPLACE FUNCTION immutable_unaccent(text) RETURNS text AS
  $$ SELECT public.unaccent('public.unaccent', $1::text) $$ LANGUAGE sql IMMUTABLE;
CREATE TABLE video (
  id integer NOT NULL,
  uuid text NOT NULL,
  title varchar(120) NOT NULL,
  description varchar(10000),
  privacy integer NOT NULL,
  state integer NOT NULL,
  views bigint NOT NULL,
  duration integer NOT NULL,
  published_at timestamptz NOT NULL
);
CREATE TABLE tag (id integer NOT NULL, name varchar(30) NOT NULL);
CREATE TABLE video_tag (video_id integer NOT NULL, tag_id integer NOT NULL);`

// pgIndexes are the keys, a GIN trigram index on the very expression the
// search compares (what makes `%` and LIKE '%…%' fast), and PeerTube's
// two indexes of tag names (unique, and lower-cased for the tag match). ANALYZE gives the planner its
// statistics, which autovacuum would gather a minute later anyway.
var pgIndexes = []string{
	`ALTER TABLE video ADD PRIMARY KEY (id)`,
	`CREATE INDEX video_title_trigram ON video USING gin (lower(immutable_unaccent(title)) gin_trgm_ops)`,
	`ALTER TABLE tag ADD PRIMARY KEY (id)`,
	`CREATE UNIQUE INDEX tag_name ON tag (name)`,
	`CREATE INDEX tag_lower_name ON tag (lower(name))`,
	`ALTER TABLE video_tag ADD PRIMARY KEY (video_id, tag_id)`,
	`CREATE INDEX video_tag_tag_id ON video_tag (tag_id)`,
	`ANALYZE video, tag, video_tag`,
}

// pgEnv is where PostgreSQL's programs are and whom they run as.
type pgEnv struct {
	bin string
	// cred runs the server as a user other than root, which it requires;
	// nil when this process is not root.
	cred *syscall.Credential
	uid  int
	gid  int
}

// preparePostgres finds PostgreSQL's programs, installing Debian's
// packages when they are missing (and this process may), and picks the
// user to run them as.
func preparePostgres(bin string) (*pgEnv, error) {
	if bin == "" {
		var err error
		if bin, err = findPostgres(); err != nil {
			if os.Geteuid() != 0 {
				return nil, fmt.Errorf("%w; install postgresql and postgresql-contrib, or pass -pg-bin", err)
			}
			fmt.Println("postgres: not installed; apt-get install -y postgresql postgresql-contrib")
			if err := aptInstall(); err != nil {
				return nil, err
			}
			if bin, err = findPostgres(); err != nil {
				return nil, err
			}
		}
	}
	env := &pgEnv{bin: bin, uid: os.Getuid(), gid: os.Getgid()}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			if u, err = user.Lookup("nobody"); err != nil {
				return nil, fmt.Errorf("a user to run postgres as: %w", err)
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		env.uid, env.gid = uid, gid
		env.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return env, nil
}

// findPostgres is the newest /usr/lib/postgresql/*/bin with initdb and
// postgres in it.
func findPostgres() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL under /usr/lib/postgresql/*/bin")
}

// aptInstall installs PostgreSQL with its contrib extensions (pg_trgm,
// unaccent), updating the package lists first only if the install fails
// without. Installing may start Debian's own cluster on port 5432; this
// benchmark does not use it.
func aptInstall() error {
	install := func() error {
		cmd := exec.Command("apt-get", "install", "-y", "postgresql", "postgresql-contrib")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get install postgresql: %w\n%s", err, tail(out))
		}
		return nil
	}
	if install() == nil {
		return nil
	}
	if out, err := exec.Command("apt-get", "update").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %w\n%s", err, tail(out))
	}
	return install()
}

// pgServer is a PostgreSQL server of the benchmark's own, on a loopback
// port, in a folder removed when it stops.
type pgServer struct {
	env  *pgEnv
	root string
	port int
	cmd  *exec.Cmd
	log  string
}

// startPostgres initialises a database folder and starts the server on
// it. Settings are PostgreSQL's defaults (PeerTube documents none of its
// own), except that it listens on 127.0.0.1 only.
func startPostgres(ctx context.Context, env *pgEnv) (*pgServer, error) {
	root, err := os.MkdirTemp("", "strata-bench-pg-")
	if err != nil {
		return nil, fmt.Errorf("postgres folder: %w", err)
	}
	s := &pgServer{env: env, root: root, log: filepath.Join(root, "postgres.log")}
	fail := func(err error) (*pgServer, error) {
		s.stop()
		return nil, err
	}
	if err := os.Chown(root, env.uid, env.gid); err != nil {
		return fail(fmt.Errorf("postgres folder: %w", err))
	}
	data := filepath.Join(root, "data")
	initdb := s.command(ctx, "initdb", "-D", data, "-U", "bench", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, tail(out)))
	}
	if s.port, err = loopport.Free(); err != nil {
		return fail(err)
	}
	logf, err := os.Create(s.log)
	if err != nil {
		return fail(fmt.Errorf("postgres log: %w", err))
	}
	defer logf.Close()
	// The server is this process's child, told to shut down fast
	// (SIGINT) should this process die first.
	s.cmd = exec.Command(filepath.Join(env.bin, "postgres"), "-D", data, "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+root)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: env.cred, Pdeathsig: syscall.SIGINT}
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("start postgres: %w", err))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := s.connect(ctx)
		if err == nil {
			c.Close(ctx)
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fail(fmt.Errorf("postgres did not start: %w\n%s", err, s.logTail()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// command runs one of PostgreSQL's programs as the server's user.
func (s *pgServer) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.env.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.env.cred}
	return cmd
}

// connect opens a connection that sends each query as text with its
// values quoted in, as PeerTube's Sequelize does, so PostgreSQL plans
// every query for its own words.
func (s *pgServer) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://bench@127.0.0.1:%d/postgres?sslmode=disable", s.port))
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	return pgx.ConnectConfig(ctx, cfg)
}

// stop shuts the server down (fast shutdown, then a kill after 30 s) and
// removes its folder.
func (s *pgServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	_ = os.RemoveAll(s.root)
}

func (s *pgServer) logTail() string {
	b, _ := os.ReadFile(s.log)
	return tail(b)
}

// load creates the schema, then times filling it and indexing it: COPY of
// the videos, the tags and the video-tag links, then the keys, the indexes
// and ANALYZE.
func (s *pgServer) load(ctx context.Context, c *pgx.Conn, videos []corpus.Video) (time.Duration, error) {
	if _, err := c.Exec(ctx, pgSchema); err != nil {
		return 0, fmt.Errorf("schema: %w", err)
	}
	rows := make([][]any, len(videos))
	tagID := map[string]int{}
	var tags, links [][]any
	for i, v := range videos {
		id := i + 1
		privacy := map[model.Visibility]int{model.Public: 1, model.Unlisted: 2, model.Private: 3}[v.Visibility]
		state := 2 // to transcode
		if v.Status == model.StatusReady {
			state = 1 // published
		}
		rows[i] = []any{id, v.ID, v.Title, v.Description, privacy, state, v.Views, int(v.DurationS), v.CreatedAt}
		seen := map[int]bool{}
		for _, t := range v.Tags {
			tid, ok := tagID[t]
			if !ok {
				tid = len(tagID) + 1
				tagID[t] = tid
				tags = append(tags, []any{tid, t})
			}
			if !seen[tid] {
				seen[tid] = true
				links = append(links, []any{id, tid})
			}
		}
	}
	start := time.Now()
	for _, t := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"video", []string{"id", "uuid", "title", "description", "privacy", "state", "views", "duration", "published_at"}, rows},
		{"tag", []string{"id", "name"}, tags},
		{"video_tag", []string{"video_id", "tag_id"}, links},
	} {
		if _, err := c.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
			return 0, fmt.Errorf("copy %s: %w", t.table, err)
		}
	}
	for _, q := range pgIndexes {
		if _, err := c.Exec(ctx, q); err != nil {
			return 0, fmt.Errorf("%s: %w", q, err)
		}
	}
	return time.Since(start), nil
}

// sizes are the trigram index's size and that of the three tables with
// all their indexes.
func (s *pgServer) sizes(ctx context.Context, c *pgx.Conn) (index, all int64, err error) {
	err = c.QueryRow(ctx, `SELECT pg_relation_size('video_title_trigram'),
		pg_total_relation_size('video') + pg_total_relation_size('tag') + pg_total_relation_size('video_tag')`).Scan(&index, &all)
	if err != nil {
		err = fmt.Errorf("sizes: %w", err)
	}
	return index, all, err
}

// explain reports whether PostgreSQL's plan for q reads the trigram index,
// and the plan itself (run, with its times, when analyze is set).
func explain(ctx context.Context, c *pgx.Conn, q string, analyze bool) (bool, string, error) {
	how := "EXPLAIN "
	if analyze {
		how = "EXPLAIN ANALYZE "
	}
	rows, err := c.Query(ctx, how+pgSearch, q, "%"+q+"%")
	if err != nil {
		return false, "", fmt.Errorf("explain: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false, "", fmt.Errorf("explain: %w", err)
	}
	plan := strings.Join(lines, "\n")
	return strings.Contains(plan, "Bitmap Index Scan on video_title_trigram"), plan, nil
}

// pgSearcher runs the search on its own connection, as each of PeerTube's
// request handlers takes one from its pool.
type pgSearcher struct{ c *pgx.Conn }

type pgAnswer []string

func (p *pgSearcher) search(ctx context.Context, text string) (any, error) {
	rows, err := p.c.Query(ctx, pgSearch, text, "%"+text+"%")
	if err != nil {
		return nil, err
	}
	var out pgAnswer
	for rows.Next() {
		var id int
		var title string
		if err := rows.Scan(&id, &title); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, title)
	}
	rows.Close()
	return out, rows.Err()
}

func (p *pgSearcher) titles(answer any) ([]string, error) { return answer.(pgAnswer), nil }

// tail is the end of a program's output, for error messages.
func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
