// Command tlogcheck reads a C2SP tlog-tiles log over HTTP using only Go's
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, the packages the Go
// checksum database runs on, and verifies it as an outside client would.
//
//	tlogcheck verify <prefix URL> <verifier key> [<old size> <old root base64>]
//
// opens the checkpoint with the verifier key, recomputes the tree head from the tiles
// (tlog.TileHashReader checks every tile against it), checks every entry of every entry
// bundle with an inclusion proof, and, given an older tree head, a consistency proof.
// It prints "verified <origin> <size> <root>" and exits 0, or prints the failure and exits 1.
//
//	tlogcheck paths
//
// reads "<level> <n> <width>" lines (level -1: entry bundle) and prints each tile's path as
// tlog.Tile.Path writes it, without the height element that C2SP tlog-tiles drops.
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

func main() {
	var err error
	switch {
	case len(os.Args) >= 4 && os.Args[1] == "verify":
		err = verify(os.Args[2], os.Args[3], os.Args[4:])
	case len(os.Args) == 2 && os.Args[1] == "paths":
		err = paths(os.Stdin)
	default:
		err = fmt.Errorf("usage: tlogcheck verify <prefix> <vkey> [<old size> <old root>] | paths")
	}
	if err != nil {
		fmt.Println("FAILED:", err)
		os.Exit(1)
	}
}

// c2spPath is tlog.Tile.Path without the height element; data tiles are entry bundles.
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", height))
	return "tile/" + strings.Replace(p, "data/", "entries/", 1)
}

func paths(in io.Reader) error {
	scanner := bufio.NewScanner(in)
	for scanner.Scan() {
		var l, w int
		var n int64
		if _, err := fmt.Sscanf(scanner.Text(), "%d %d %d", &l, &n, &w); err != nil {
			return err
		}
		fmt.Println(c2spPath(tlog.Tile{H: height, L: l, N: n, W: w}))
	}
	return scanner.Err()
}

// tileReader fetches each tile once; SaveTiles keeps those tlog verified against the tree.
type tileReader struct {
	prefix string
	saved  map[tlog.Tile][]byte
}

func (r tileReader) Height() int { return height }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		if saved, ok := r.saved[t]; ok {
			data[i] = saved
			continue
		}
		body, err := get(r.prefix + "/" + c2spPath(t))
		if err != nil {
			return nil, err
		}
		data[i] = body
	}
	return data, nil
}

func (r tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	for i, t := range tiles {
		r.saved[t] = data[i]
	}
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

func verify(prefix, vkey string, old []string) error {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return err
	}
	msg, err := get(prefix + "/checkpoint")
	if err != nil {
		return err
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return fmt.Errorf("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != verifier.Name() {
		return fmt.Errorf("checkpoint body is not <origin>\\n<size>\\n<root>\\n of %s", verifier.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return err
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return err
	}
	tree := tlog.Tree{N: size, Hash: root}
	hashes := tlog.TileHashReader(tree, tileReader{prefix, map[tlog.Tile][]byte{}})
	recomputed, err := tlog.TreeHash(size, hashes)
	if err != nil {
		return fmt.Errorf("tree hash from tiles: %v", err)
	}
	if recomputed != root {
		return fmt.Errorf("tree hash from tiles %v, checkpoint says %v", recomputed, root)
	}
	if err := checkEntries(prefix, tree, hashes); err != nil {
		return err
	}
	if len(old) == 2 {
		if err := checkConsistency(tree, hashes, old[0], old[1]); err != nil {
			return err
		}
	}
	fmt.Printf("verified %s %d %s\n", lines[0], size, base64.StdEncoding.EncodeToString(root[:]))
	return nil
}

func checkEntries(prefix string, tree tlog.Tree, hashes tlog.HashReader) error {
	for first := int64(0); first < tree.N; first += 1 << height {
		width := tree.N - first
		if width > 1<<height {
			width = 1 << height
		}
		bundle := tlog.Tile{H: height, L: -1, N: first >> height, W: int(width)}
		body, err := get(prefix + "/" + c2spPath(bundle))
		if err != nil {
			return err
		}
		for i := int64(0); i < width; i++ {
			if len(body) < 2 {
				return fmt.Errorf("entry bundle %d is truncated", bundle.N)
			}
			length := int(body[0])<<8 | int(body[1])
			if len(body) < 2+length {
				return fmt.Errorf("entry bundle %d is truncated", bundle.N)
			}
			entry := body[2 : 2+length]
			body = body[2+length:]
			proof, err := tlog.ProveRecord(tree.N, first+i, hashes)
			if err != nil {
				return err
			}
			if err := tlog.CheckRecord(proof, tree.N, tree.Hash, first+i, tlog.RecordHash(entry)); err != nil {
				return fmt.Errorf("entry %d: %v", first+i, err)
			}
		}
		if len(body) != 0 {
			return fmt.Errorf("entry bundle %d has trailing bytes", bundle.N)
		}
	}
	return nil
}

func checkConsistency(tree tlog.Tree, hashes tlog.HashReader, oldSize, oldRoot string) error {
	size, err := strconv.ParseInt(oldSize, 10, 64)
	if err != nil {
		return err
	}
	root, err := tlog.ParseHash(oldRoot)
	if err != nil {
		return err
	}
	proof, err := tlog.ProveTree(tree.N, size, hashes)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(proof, tree.N, tree.Hash, size, root); err != nil {
		return fmt.Errorf("consistency with the tree of %d: %v", size, err)
	}
	return nil
}
