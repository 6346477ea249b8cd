package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
)

// assets are the embedded static files, each served under a URL that
// carries a hash of its content, /static/<hash>/<name>, so browsers can
// cache them forever and a new build is fetched at once.
type assets struct {
	files map[string]asset // by name
}

type asset struct {
	hash  string
	body  []byte
	ctype string
}

// loadAssets reads and hashes every file under static/.
func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "text/plain; charset=utf-8"
		}
		a.files[path.Base(p)] = asset{hash: hex.EncodeToString(sum[:8]), body: body, ctype: ctype}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the static assets: %w", err)
	}
	for _, need := range []string{"app.css", htmxFile} {
		if _, ok := a.files[need]; !ok {
			return nil, fmt.Errorf("static asset %s is missing", need)
		}
	}
	return a, nil
}

// htmxFile is the vendored htmx.
const htmxFile = "htmx-2.0.11.min.js"

// url is the fingerprinted URL of an asset; templates call it as
// {{asset "app.css"}}. An unknown name fails the template, so at startup.
func (a *assets) url(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return "/static/" + f.hash + "/" + name, nil
}

// staticAsset serves an asset whose hash matches; an old hash is a 404
// rather than a stale file cached forever under the new name.
func (s *Server) staticAsset(w http.ResponseWriter, r *http.Request) error {
	f, ok := s.assets.files[r.PathValue("name")]
	if !ok || f.hash != r.PathValue("hash") {
		return errNotFound("No such file.")
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, err := w.Write(f.body)
	return err
}
