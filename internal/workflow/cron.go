package workflow

import "github.com/robfig/cron/v3"

// cronParser reads standard five-field cron lines and @descriptors.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a schedule trigger's cron line. Check reports a line it
// refuses as the field error "trigger.cron".
func ParseCron(s string) (cron.Schedule, error) { return cronParser.Parse(s) }
