package roster

import "time"

// ChannelSettings are one notification channel's settings as an admin
// saved them in the dashboard (Settings → Notifications). They carry
// secrets (the SMTP password, the Slack webhook URL, the webhook's
// signing secret), so the store keeps them sealed with the secret key and
// only internal/notify opens them. Flags and environment variables win
// over them for a channel they set.
type ChannelSettings struct {
	Channel   string // ChannelEmail, ChannelSlack or ChannelWebhook
	Sealed    []byte // the settings' JSON, sealed
	UpdatedAt time.Time
	UpdatedBy string // the actor who saved them, as in AuditEntry.Actor
}
