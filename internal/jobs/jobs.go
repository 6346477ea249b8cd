// Package jobs runs roster's background work as durable River jobs, in the
// same database as the store: SQLite through riversqlite over the store's
// own *sql.DB, PostgreSQL through riverpgxv5 over a pgx pool. A sync job
// is unique per connection while it is queued or running, so two syncs of
// one connection never run at once, even across several `roster serve`
// processes on one PostgreSQL; a periodic job, run by River's elected
// leader only, enqueues the syncs that are due; another sends the
// contracts' renewal reminders (renewal.go). The jobs a dead process held
// are rescued (alive.go).
package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"roster"
	"roster/internal/licenses"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
)

// Syncer runs one sync of one connection and records its run, failed or
// not; *mirosync.Syncer implements it.
type Syncer interface {
	Sync(ctx context.Context, connectionID int64) (roster.SyncRun, error)
}

// Defaults of Config's zero fields.
const (
	DefaultWorkers       = 4
	DefaultPollInterval  = time.Second
	DefaultScheduleEvery = time.Minute
	DefaultSyncInterval  = 24 * time.Hour
	DefaultSyncTimeout   = 30 * time.Minute
	DefaultProcessLease  = time.Minute
)

// fetchCooldown is the least time between two fetches of jobs. River
// fetches when a job ends and slots were full, but at most once per
// cooldown (100ms by default), so N workers start at most N jobs per
// cooldown: 80 workflow steps a second for 8 workers, though most
// steps take well under 50ms. 10ms lets them run back to back and
// still bounds fetch queries to 100 a second per process.
const fetchCooldown = 10 * time.Millisecond

// Config configures a Runner. DB and Syncer are required.
type Config struct {
	// DB is the store; River's tables live in its database.
	DB *sqlstore.DB
	// DSN is the database's DSN. On PostgreSQL River works over its own
	// pgx pool, opened from it; on SQLite it is unused.
	DSN    string
	Syncer Syncer
	Logger *slog.Logger
	// Workers bounds the syncs running at once in this process.
	Workers int
	// PollInterval is how often idle workers look for jobs. PostgreSQL
	// also wakes them at once on insert (LISTEN/NOTIFY); SQLite only polls.
	PollInterval time.Duration
	// ScheduleEvery is how often the leader looks for due connections.
	ScheduleEvery time.Duration
	// DefaultSyncInterval applies to connections whose SyncInterval is zero.
	DefaultSyncInterval time.Duration
	// SyncTimeout is the least time a sync runs before it is cancelled;
	// a connection whose syncs take longer gets more (syncTimeout).
	SyncTimeout time.Duration
	// ProcessLease is how long this process's heartbeat may stop before
	// the others take it for dead and rescue the jobs it held. It beats
	// four times a lease, and cancels its syncs when it has missed half.
	ProcessLease time.Duration
	// Now is the scheduler's clock; time.Now when nil.
	Now func() time.Time

	// Workflows, when set, has its step jobs worked here and its triggers
	// evaluated (with orphaned runs re-dispatched) every TriggerEvery by
	// the leader. WorkflowWorkers bounds steps worked at once;
	// StepAttempts and StepRetryBase bound and space a step's retries.
	Workflows       Workflows
	WorkflowWorkers int
	StepAttempts    int
	StepRetryBase   time.Duration
	TriggerEvery    time.Duration
	// StepHeadStart is how far ahead of a first step a later one is
	// queued, per step before it (DefaultStepHeadStart).
	StepHeadStart time.Duration

	// Renewals, when set, has the leader send the contracts' renewal
	// reminders that are due, through Notifier (required with it), every
	// RemindEvery (DefaultRemindEvery).
	Renewals    Renewals
	Notifier    licenses.Sender
	RemindEvery time.Duration
}

// client is what the Runner needs of a *river.Client, whatever its
// driver's transaction type.
type client interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// Runner owns the River client: it works sync jobs, runs the scheduler
// when elected leader, and enqueues on-demand syncs.
type Runner struct {
	db          *sqlstore.DB
	store       store.Store
	syncer      Syncer
	logger      *slog.Logger
	now         func() time.Time
	defInterval time.Duration
	syncFloor   time.Duration
	client      client
	pool        *pgxpool.Pool // PostgreSQL only
	schema      string        // PostgreSQL only

	// This process's liveness (alive.go): its name, its lease, what it
	// saw of the others, the syncs it works (to cancel them when it may
	// have been taken for dead), and its heartbeat loop.
	id        string
	lease     time.Duration
	watch     watch
	heldMu    sync.Mutex
	held      map[int64]context.CancelCauseFunc
	stopAlive context.CancelFunc
	aliveDone chan struct{}

	workflows     Workflows
	stepAttempts  int
	stepRetryBase time.Duration
	stepHeadStart time.Duration
	triggerEvery  time.Duration
	scheduleEvery time.Duration

	renewals    Renewals
	notifier    licenses.Sender
	remindEvery time.Duration
}

// tickOpts makes a periodic job unique per tick, among live jobs. Unique
// across ticks, a copy left running by a killed process would block every
// later tick until River's rescue, hours later; per tick, the next one
// runs, and the worker skips a tick that waited behind a slow one.
func tickOpts(every time.Duration) *river.InsertOpts {
	// River's periods are whole seconds at least.
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: max(every, time.Second), ByState: liveStates}}
}

// stale reports whether a periodic job waited so long that a later tick's
// job will do its work: run it and the ticks pile up behind a slow one.
func stale(createdAt time.Time, every time.Duration) bool {
	return time.Since(createdAt) > 2*every
}

// New applies River's migrations and builds a Runner; Start starts it. A
// Runner that is never started can still enqueue.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	if cfg.DB == nil || cfg.Syncer == nil {
		return nil, errors.New("jobs: DB and Syncer are required")
	}
	if cfg.Renewals != nil && cfg.Notifier == nil {
		return nil, errors.New("jobs: Renewals needs a Notifier")
	}
	r := &Runner{
		db:          cfg.DB,
		store:       cfg.DB,
		syncer:      cfg.Syncer,
		logger:      cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
		now:         cfg.Now,
		defInterval: cmp.Or(cfg.DefaultSyncInterval, DefaultSyncInterval),
		syncFloor:   cmp.Or(cfg.SyncTimeout, DefaultSyncTimeout),
		id:          processID(),
		lease:       cmp.Or(cfg.ProcessLease, DefaultProcessLease),
		watch:       watch{seen: map[string]sighting{}},
		held:        map[int64]context.CancelCauseFunc{},

		workflows:     cfg.Workflows,
		stepAttempts:  cmp.Or(cfg.StepAttempts, DefaultStepAttempts),
		stepRetryBase: cmp.Or(cfg.StepRetryBase, DefaultStepRetryBase),
		stepHeadStart: cmp.Or(cfg.StepHeadStart, DefaultStepHeadStart),

		renewals:    cfg.Renewals,
		notifier:    cfg.Notifier,
		remindEvery: cmp.Or(cfg.RemindEvery, DefaultRemindEvery),
	}
	if r.now == nil {
		r.now = time.Now
	}
	poll := cmp.Or(cfg.PollInterval, DefaultPollInterval)
	every := cmp.Or(cfg.ScheduleEvery, DefaultScheduleEvery)
	r.scheduleEvery = every

	workers := river.NewWorkers()
	river.AddWorker(workers, &syncWorker{r: r})
	river.AddWorker(workers, &scheduleWorker{r: r})
	rc := &river.Config{
		ID:     r.id,
		Logger: r.logger.With("component", "river"),
		Queues: map[string]river.QueueConfig{
			queueSync: {MaxWorkers: cmp.Or(cfg.Workers, DefaultWorkers)},
			// Its own queue, so that long syncs never hold up scheduling.
			queueSchedule: {MaxWorkers: 1},
		},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, tickOpts(every) },
			&river.PeriodicJobOpts{ID: ScheduleArgs{}.Kind(), RunOnStart: true},
		)},
		FetchPollInterval: poll,
		FetchCooldown:     min(poll, fetchCooldown),
		// A dead process's jobs are rescued through heartbeats (alive.go);
		// River's rescue by time is left for a job stuck in a live
		// process, and never takes a sync (its worker has no timeout).
		RescueStuckJobsAfter: time.Hour,
		Middleware:           []rivertype.Middleware{dueNow},
	}
	if r.workflows != nil {
		// A killed process's step is taken over through its run's lease
		// (workflow.Engine.Reconcile), long before River would rescue it.
		river.AddWorker(workers, &stepWorker{r: r})
		river.AddWorker(workers, &triggersWorker{r: r})
		rc.Queues[queueWorkflow] = river.QueueConfig{MaxWorkers: cmp.Or(cfg.WorkflowWorkers, DefaultWorkflowWorkers)}
		rc.Queues[queueTriggers] = river.QueueConfig{MaxWorkers: 1}
		r.triggerEvery = cmp.Or(cfg.TriggerEvery, DefaultTriggerEvery)
		rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(
			river.PeriodicInterval(r.triggerEvery),
			func() (river.JobArgs, *river.InsertOpts) { return TriggersArgs{}, tickOpts(r.triggerEvery) },
			&river.PeriodicJobOpts{ID: TriggersArgs{}.Kind(), RunOnStart: true},
		))
	}
	if r.renewals != nil {
		river.AddWorker(workers, &remindWorker{r: r})
		rc.Queues[queueReminders] = river.QueueConfig{MaxWorkers: 1}
		rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(
			river.PeriodicInterval(r.remindEvery),
			func() (river.JobArgs, *river.InsertOpts) { return RemindArgs{}, tickOpts(r.remindEvery) },
			&river.PeriodicJobOpts{ID: RemindArgs{}.Kind(), RunOnStart: true},
		))
	}

	var err error
	switch cfg.DB.Dialect() {
	case "sqlite":
		driver := riversqlite.New(cfg.DB.SQL())
		if err = migrate(ctx, driver, "", r.logger); err == nil {
			r.client, err = river.NewClient(driver, rc)
		}
	case "postgres":
		err = r.openPostgres(ctx, cfg.DSN, rc)
	default:
		err = fmt.Errorf("unknown dialect %q", cfg.DB.Dialect())
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return r, nil
}

// openPostgres opens River's pool on dsn, migrates River's tables in the
// DSN's schema (its search_path) and builds the client there.
func (r *Runner) openPostgres(ctx context.Context, dsn string, rc *river.Config) error {
	pool, schema, err := openRiverPool(ctx, dsn, r.logger)
	if err != nil {
		return err
	}
	r.pool, r.schema = pool, schema
	rc.Schema = schema
	r.client, err = river.NewClient(riverpgxv5.New(pool), rc)
	return err
}

// openRiverPool opens a pgx pool on dsn and migrates River's tables in the
// schema the DSN's search_path resolves to, which it returns: River's
// tables go beside the store's, and naming the schema also keeps River's
// notifications per schema.
func openRiverPool(ctx context.Context, dsn string, logger *slog.Logger) (*pgxpool.Pool, string, error) {
	if dsn == "" {
		return nil, "", errors.New("the PostgreSQL DSN is required")
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("parse the PostgreSQL DSN: %w", err)
	}
	// River holds one connection to LISTEN and a few for fetching,
	// completing and leader election; the syncs themselves use the store.
	pcfg.MaxConns = max(pcfg.MaxConns, 8)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, "", fmt.Errorf("open the PostgreSQL pool: %w", err)
	}
	var schema *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, "", fmt.Errorf("read the current schema: %w", err)
	}
	if schema == nil {
		pool.Close()
		return nil, "", errors.New("no schema of the search_path exists")
	}
	driver := riverpgxv5.New(pool)
	if err := withMigrationLock(ctx, pool, *schema, func() error { return migrate(ctx, driver, *schema, logger) }); err != nil {
		pool.Close()
		return nil, "", err
	}
	return pool, *schema, nil
}

// Migrate applies River's migrations in the store's database without
// building a Runner: `roster migrate` uses it. dsn is needed on
// PostgreSQL, where River has its own pool.
func Migrate(ctx context.Context, db *sqlstore.DB, dsn string, logger *slog.Logger) error {
	logger = cmp.Or(logger, slog.New(slog.DiscardHandler))
	switch db.Dialect() {
	case "sqlite":
		if err := migrate(ctx, riversqlite.New(db.SQL()), "", logger); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
	case "postgres":
		pool, _, err := openRiverPool(ctx, dsn, logger)
		if err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
		pool.Close()
	default:
		return fmt.Errorf("jobs: unknown dialect %q", db.Dialect())
	}
	return nil
}

// Start starts working jobs and, when elected leader, scheduling syncs,
// and the heartbeat that keeps this process's jobs its own. On SQLite,
// whose one process owns the database, it first rescues every job a
// dead process left running. Cancelling ctx stops the Runner at once,
// cancelling running syncs; pass a context that outlives the work and
// call Stop for a graceful stop.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.db.StartProcess(ctx, r.id); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	if r.db.Dialect() == "sqlite" {
		if err := r.rescueAll(ctx); err != nil {
			return fmt.Errorf("jobs: start: %w", err)
		}
	}
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	aliveCtx, stop := context.WithCancel(ctx)
	r.stopAlive, r.aliveDone = stop, make(chan struct{})
	go r.keepAlive(aliveCtx)
	return nil
}

// Stop waits for running jobs to finish until ctx is done, then cancels
// them: a cancelled sync is recorded as failed and retried later.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = r.client.StopAndCancel(hard)
	}
	if r.stopAlive != nil {
		// Jobs are done: stop beating, and leave the others' watch.
		r.stopAlive()
		<-r.aliveDone
		if endErr := r.db.EndProcess(context.WithoutCancel(ctx), r.id); endErr != nil {
			err = errors.Join(err, endErr)
		}
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Close releases River's PostgreSQL pool, after Stop. The store stays
// open: it belongs to the caller.
func (r *Runner) Close() {
	if r.pool != nil {
		r.pool.Close()
	}
}

// EnqueueSync asks for a sync of a connection now. inserted is false when
// a sync of it is already queued, waiting for a retry or running: that
// one will do.
func (r *Runner) EnqueueSync(ctx context.Context, connectionID int64) (inserted bool, err error) {
	res, err := r.client.Insert(ctx, SyncArgs{ConnectionID: connectionID}, nil)
	if err != nil {
		return false, fmt.Errorf("jobs: enqueue sync of connection %d: %w", connectionID, err)
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// RiverClient is the Runner's River client, for River UI's endpoints
// (internal/web mounts them at /admin/jobs), so that they read and retry
// jobs through the same client and pool as the workers: a
// *river.Client[*sql.Tx] on SQLite, a *river.Client[pgx.Tx] on PostgreSQL.
func (r *Runner) RiverClient() any { return r.client }
