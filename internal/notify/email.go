package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// smtpTimeout bounds one whole SMTP conversation when ctx has no earlier
// deadline: a relay that accepts the connection and then says nothing
// must not hold a worker for ever.
const smtpTimeout = 30 * time.Second

func (n *Notifier) sendEmail(ctx context.Context, m Message) (string, error) {
	host, _, _ := net.SplitHostPort(n.cfg.SMTPAddr) // Validate checked it
	from, err := mail.ParseAddress(n.cfg.SMTPFrom)
	if err != nil {
		return host, permanent(fmt.Errorf("from address %q: %w", n.cfg.SMTPFrom, err))
	}
	if len(m.To) == 0 {
		return host, permanent(errors.New("no recipient"))
	}
	to := make([]*mail.Address, len(m.To))
	for i, s := range m.To {
		if to[i], err = mail.ParseAddress(s); err != nil {
			return host, permanent(fmt.Errorf("recipient %q is not an email address", s))
		}
	}
	msg := buildEmail(from, to, m, n.now())
	err = n.smtpSend(ctx, host, from.Address, to, msg)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return host, permanent(err)
	}
	return host, err
}

// smtpSend runs one SMTP conversation: connect, TLS as configured, AUTH
// PLAIN when a username is set, one message to all of to.
func (n *Notifier) smtpSend(ctx context.Context, host, from string, to []*mail.Address, msg []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, smtpTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	defer func() {
		if err == nil {
			return
		}
		// The connection's deadline can pass a moment before ctx's timer
		// fires: name the cause either way.
		cause := ctx.Err()
		if cause == nil && !time.Now().Before(deadline) {
			cause = context.DeadlineExceeded
		}
		if cause != nil {
			err = fmt.Errorf("%w: %w", cause, err)
		}
	}()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	// net/smtp takes no context: the deadline bounds every read and
	// write, and cancelling ctx moves it to the past.
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	secure := n.cfg.SMTPTLS == TLSImplicit
	if secure {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if !secure && n.cfg.SMTPTLS != TLSNone {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
			secure = true
		}
	}
	if n.cfg.SMTPUsername != "" {
		// net/smtp's own rule: a password goes in clear only to loopback.
		if !secure && !smtpLocal(host) {
			return permanent(errors.New("the server does not offer STARTTLS; the password is not sent in clear"))
		}
		if err := c.Auth(smtp.PlainAuth("", n.cfg.SMTPUsername, n.cfg.SMTPPassword, host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The server's verdict on the message is the answer to the final dot.
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// smtpLocal is net/smtp's notion of localhost, where PlainAuth sends a
// password without TLS.
func smtpLocal(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// buildEmail writes an RFC 5322 message: UTF-8 text, quoted-printable, an
// RFC 2047 subject, and a Message-ID derived from the key.
func buildEmail(from *mail.Address, to []*mail.Address, m Message, now time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	header("From", from.String())
	header("To", strings.Join(tos, ", "))
	header("Subject", encodeSubject(m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", MessageID(m.Key))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: no vacation auto-replies to a robot.
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(m.Text)) // a bytes.Buffer does not fail
	_ = qp.Close()
	return b.Bytes()
}

// encodeSubject RFC 2047-encodes a non-ASCII subject, one encoded word a
// line: RFC 2047 limits such lines to 76 characters.
func encodeSubject(subject string) string {
	subject = oneLine(subject)
	enc := mime.QEncoding.Encode("utf-8", subject)
	if enc == subject {
		return subject
	}
	enc = strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
	if first, _, _ := strings.Cut(enc, "\r\n"); len("Subject: ")+len(first) > 76 {
		enc = "\r\n " + enc
	}
	return enc
}

// MessageID is the Message-ID header of the email sent for key,
// "<hash@roster>": the same key gives the same id, so a receiver can drop
// a resend. An empty key gets a random id.
func MessageID(key string) string {
	if key == "" {
		return "<" + strings.ToLower(rand.Text()) + "@roster>"
	}
	sum := sha256.Sum256([]byte(key))
	return "<" + hex.EncodeToString(sum[:16]) + "@roster>"
}

// oneLine keeps a header value on one line: a CR or LF in a subject would
// let it add headers.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
