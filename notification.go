package roster

import "time"

// ChannelOutbox is the built-in channel that needs no configuration: a
// message sent to it is kept in the store and read on the dashboard's
// Sent notifications page, and goes nowhere else.
const ChannelOutbox = "outbox"

// NotificationStatus is where a recorded message stands.
type NotificationStatus string

// Notification statuses.
const (
	NotificationSent   NotificationStatus = "sent"
	NotificationFailed NotificationStatus = "failed"
)

// Notification is one message roster sent or tried to send, on any
// channel, as the Sent notifications page lists it. Key identifies the
// message (a workflow run's step): sending it again on the same channel
// updates the same record and counts the attempt.
type Notification struct {
	ID      int64
	Key     string
	Channel string
	To      []string // email only
	Subject string
	Text    string
	Event   string // e.g. "workflow.notify", "workflow.failed"
	RunID   int64  // the workflow run it came from; 0 for none
	Status  NotificationStatus
	// Attempts counts the tries so far; Error is the last one's failure.
	Attempts int
	Error    string
	// RetryAt is when a failed message is tried again by itself; zero
	// when it is not (it was sent, or only an admin's retry can help).
	RetryAt   time.Time
	CreatedAt time.Time
	UpdatedAt time.Time // the last attempt
}
