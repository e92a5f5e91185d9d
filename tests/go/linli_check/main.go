// Command linli_check is an independent client of a Linli disclosure log, written only with
// Go's standard library and the Go checksum database's own packages
// (golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog), so that the log's HTTP
// interface is checked by code that shares nothing with Linli.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o linli_check main.go
//	linli_check -url http://host/disclosure/C01/log -key 'name+1a2b3c4d+AbCd…' [-state FILE]
//
// It opens the checkpoint with note.Open (witnesses' cosignature lines are unknown keys and are
// kept aside), parses origin, size and root itself, pages all entries, checks each leaf's
// inclusion proof with tlog.CheckRecord, recomputes the root with tlog.TreeHash over the
// hashes tlog.StoredHashes gives, and with -state checks that the log only grew since the size
// and root remembered there (tlog.CheckTree over /proof/consistency), then remembers the new
// ones. It exits 1 naming the first index that fails, 2 on a usage error, 3 when the server
// cannot be read.
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type failure struct{ msg string }

func (f failure) Error() string { return f.msg }

func fail(format string, args ...interface{}) error {
	return failure{fmt.Sprintf(format, args...)}
}

type unreachable struct{ msg string }

func (u unreachable) Error() string { return u.msg }

var client = &http.Client{Timeout: 30 * time.Second}

func get(base, path string, params url.Values) ([]byte, error) {
	u := base + "/" + path
	if params != nil {
		u += "?" + params.Encode()
	}
	resp, err := client.Get(u)
	if err != nil {
		return nil, unreachable{err.Error()}
	}
	defer resp.Body.Close()
	body, err := ioutil.ReadAll(resp.Body)
	if err != nil {
		return nil, unreachable{err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, unreachable{fmt.Sprintf("%s: HTTP %d", u, resp.StatusCode)}
	}
	return body, nil
}

func decodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != tlog.HashSize {
		return h, fail("malformed hash %q", s)
	}
	copy(h[:], raw)
	return h, nil
}

func getHashes(base, path string, params url.Values) ([]tlog.Hash, error) {
	body, err := get(base, path, params)
	if err != nil {
		return nil, err
	}
	var answer struct {
		Hashes []string `json:"hashes"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fail("%s: not JSON: %v", path, err)
	}
	out := make([]tlog.Hash, len(answer.Hashes))
	for i, s := range answer.Hashes {
		if out[i], err = decodeHash(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseCheckpoint reads origin, size and root from the note's text (tlog.ParseTree wants the
// go.sum header "go.sum database tree", which a C2SP checkpoint does not carry).
func parseCheckpoint(text string) (string, int64, tlog.Hash, error) {
	var root tlog.Hash
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" {
		return "", 0, root, fail("checkpoint needs an origin, a size and a root")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, root, fail("checkpoint size %q is malformed", lines[1])
	}
	root, err = decodeHash(lines[2])
	if err != nil {
		return "", 0, root, fail("checkpoint root is malformed")
	}
	return lines[0], size, root, nil
}

type state struct {
	Origin string `json:"origin"`
	Size   int64  `json:"size"`
	Root   string `json:"root"`
}

func run(base, key, statePath string) error {
	verifier, err := note.NewVerifier(key)
	if err != nil {
		return fmt.Errorf("bad verifier key: %v", err)
	}
	body, err := get(base, "checkpoint", nil)
	if err != nil {
		return err
	}
	n, err := note.Open(body, note.VerifierList(verifier))
	if err != nil {
		return fail("checkpoint: %v", err)
	}
	origin, size, root, err := parseCheckpoint(n.Text)
	if err != nil {
		return err
	}
	fmt.Printf("checkpoint %s size %d signed by %s, %d other signature(s)\n",
		origin, size, n.Sigs[0].Name, len(n.UnverifiedSigs))

	// All stored hashes of the tree, indexed as tlog.StoredHashIndex says.
	stored := make([]tlog.Hash, 0, tlog.StoredHashCount(size))
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("hash %d not stored yet", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	var index int64
	for index < size {
		page, err := get(base, "entries", url.Values{
			"start": {strconv.FormatInt(index, 10)}, "end": {strconv.FormatInt(size, 10)}})
		if err != nil {
			return err
		}
		var answer struct {
			Entries []struct {
				Index int64  `json:"index"`
				Leaf  string `json:"leaf"`
			} `json:"entries"`
		}
		if err := json.Unmarshal(page, &answer); err != nil {
			return fail("entries: not JSON: %v", err)
		}
		if len(answer.Entries) == 0 {
			return fail("index %d: the server returned no entries", index)
		}
		for _, e := range answer.Entries {
			if index == size {
				break
			}
			if e.Index != index {
				return fail("index %d: the server returned index %d instead", index, e.Index)
			}
			data, err := base64.StdEncoding.DecodeString(e.Leaf)
			if err != nil {
				return fail("index %d: leaf is not base64", index)
			}
			proof, err := getHashes(base, "proof/inclusion", url.Values{
				"index": {strconv.FormatInt(index, 10)}, "size": {strconv.FormatInt(size, 10)}})
			if err != nil {
				return err
			}
			if err := tlog.CheckRecord(tlog.RecordProof(proof), size, root, index, tlog.RecordHash(data)); err != nil {
				return fail("index %d: inclusion proof failed: %v", index, err)
			}
			hashes, err := tlog.StoredHashes(index, data, reader)
			if err != nil {
				return fail("index %d: %v", index, err)
			}
			stored = append(stored, hashes...)
			index++
		}
	}
	if size > 0 {
		computed, err := tlog.TreeHash(size, reader)
		if err != nil {
			return fail("tree hash: %v", err)
		}
		if computed != root {
			return fail("the entries do not hash to the signed root")
		}
	}
	fmt.Printf("entries: %d, every inclusion proof checked, root recomputed\n", size)

	if statePath == "" {
		return nil
	}
	var old state
	raw, err := ioutil.ReadFile(statePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(raw, &old); err != nil {
			return fmt.Errorf("state file: %v", err)
		}
		oldRoot, err := decodeHash(old.Root)
		if err != nil {
			return fmt.Errorf("state file: %v", err)
		}
		if old.Origin != origin {
			return fail("origin changed from %s to %s", old.Origin, origin)
		}
		switch {
		case old.Size > size:
			return fail("the log shrank from %d to %d", old.Size, size)
		case old.Size == size && oldRoot != root:
			return fail("two roots for size %d: the log forked", size)
		case old.Size > 0 && old.Size < size:
			proof, err := getHashes(base, "proof/consistency", url.Values{
				"first": {strconv.FormatInt(old.Size, 10)}, "second": {strconv.FormatInt(size, 10)}})
			if err != nil {
				return err
			}
			if err := tlog.CheckTree(tlog.TreeProof(proof), size, root, old.Size, oldRoot); err != nil {
				return fail("consistency with size %d failed: %v", old.Size, err)
			}
		}
		fmt.Printf("consistency: extends the log remembered at size %d\n", old.Size)
	}
	out, _ := json.Marshal(state{origin, size, base64.StdEncoding.EncodeToString(root[:])})
	tmp, err := ioutil.TempFile(filepath.Dir(statePath), ".linli-check-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(out, '\n')); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), statePath)
}

func main() {
	base := flag.String("url", "", "the log's base URL, …/disclosure/<code>/log")
	key := flag.String("key", "", "the log's verifier key")
	statePath := flag.String("state", "", "file remembering the last verified size and root")
	flag.Parse()
	if *base == "" || *key == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	err := run(strings.TrimSuffix(*base, "/"), *key, *statePath)
	var f failure
	var u unreachable
	switch {
	case err == nil:
		fmt.Println("OK")
	case errors.As(err, &f):
		fmt.Fprintln(os.Stderr, "FAILED:", err)
		os.Exit(1)
	case errors.As(err, &u):
		fmt.Fprintln(os.Stderr, "cannot read the log:", err)
		os.Exit(3)
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
}
