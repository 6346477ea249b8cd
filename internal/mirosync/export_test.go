package mirosync

// What the external tests (package mirosync_test) read of the package's
// own rules, to compute the truth a sync must match.
var (
	AuditHorizon = auditHorizon
	UsageEvents  = usageEvents
	InferLicense = inferLicense
	SameAccount  = sameAccount
)
