// Package notifytest runs real local receivers for notifications, an SMTP
// server and webhook endpoints, so tests send through the real clients
// and read what arrived. Nothing here is a mock of roster's own code.
package notifytest

import (
	"bytes"
	"errors"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message the SMTP server accepted.
type Mail struct {
	From     string   // envelope MAIL FROM
	To       []string // envelope RCPT TO
	Username string   // the AUTH PLAIN username, "" without AUTH
	Raw      []byte   // the message as sent, CRLF line ends

	Header    mail.Header
	Subject   string // RFC 2047 decoded
	MessageID string
	Body      string // transfer-decoded text, line ends as "\n"
}

// SMTPServer is a local SMTP server on 127.0.0.1. It offers no TLS, takes
// any AUTH PLAIN and keeps every message.
type SMTPServer struct {
	srv  *smtp.Server
	addr string

	mu       sync.Mutex
	mails    []Mail
	failN    int
	failCode int
}

// NewSMTP starts a server, closed when t ends.
func NewSMTP(t testing.TB) *SMTPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("notifytest: listen: %v", err)
	}
	s := &SMTPServer{addr: ln.Addr().String()}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{server: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// Addr is the server's host:port.
func (s *SMTPServer) Addr() string { return s.addr }

// Messages are the messages accepted so far, in order.
func (s *SMTPServer) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Wait waits until at least n messages arrived and returns them; it fails
// t after timeout.
func (s *SMTPServer) Wait(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	waitFor(t, "messages", n, timeout, func() int { return len(s.Messages()) })
	return s.Messages()
}

// FailNext answers the next n messages' DATA with code (451: transient,
// 550: permanent) instead of accepting them.
func (s *SMTPServer) FailNext(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, code
}

// fault returns the injected error for this DATA, if any.
func (s *SMTPServer) fault() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN == 0 {
		return nil
	}
	s.failN--
	return &smtp.SMTPError{Code: s.failCode, EnhancedCode: smtp.EnhancedCodeNotSet, Message: "notifytest: injected failure"}
}

// session is one SMTP connection's state.
type session struct {
	server   *SMTPServer
	username string
	from     string
	to       []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, _ string) error {
		s.username = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r) // read whole even when failing: go-smtp requires it
	if err != nil {
		return err
	}
	if err := s.server.fault(); err != nil {
		return err
	}
	m, err := parseMail(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCodeNotSet, Message: "notifytest: " + err.Error()}
	}
	m.From, m.To, m.Username = s.from, s.to, s.username
	s.server.mu.Lock()
	s.server.mails = append(s.server.mails, m)
	s.server.mu.Unlock()
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// parseMail reads the headers and the text body; a message the test
// could not read is refused, so a malformed one fails the sender's test.
func parseMail(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Mail{}, err
	}
	var body io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "", "7bit", "8bit":
	default:
		return Mail{}, errors.New("unexpected Content-Transfer-Encoding " + msg.Header.Get("Content-Transfer-Encoding"))
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return Mail{}, err
	}
	return Mail{
		Raw:       raw,
		Header:    msg.Header,
		Subject:   subject,
		MessageID: msg.Header.Get("Message-ID"),
		Body:      strings.ReplaceAll(string(text), "\r\n", "\n"),
	}, nil
}

// waitFor polls count until it reaches n, failing t after timeout.
func waitFor(t testing.TB, what string, n int, timeout time.Duration, count func() int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := count()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifytest: %d %s after %s, want %d", got, what, timeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
