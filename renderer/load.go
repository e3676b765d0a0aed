package renderer

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// sourceFile is one template file as loaded by New.
type sourceFile struct {
	name   string // template name: the path as given joined with the path below it
	key    string // name below the given path, for the hash: moving a tree keeps its hash
	text   string
	helper bool
}

// loadFiles reads the template files under paths in render order.
func loadFiles(paths []string) ([]sourceFile, error) {
	var files []sourceFile
	seen := map[string]bool{}
	add := func(name, key string) error {
		clean := filepath.Clean(name)
		if seen[clean] {
			return fmt.Errorf("template %s: listed twice", name)
		}
		seen[clean] = true
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read template: %w", err)
		}
		files = append(files, sourceFile{
			name:   name,
			key:    filepath.ToSlash(key),
			text:   string(b),
			helper: strings.HasPrefix(filepath.Base(name), "_"),
		})
		return nil
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if !info.IsDir() {
			if err := add(root, filepath.Base(root)); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// Dot entries include the ..data and ..<timestamp> trees of a ConfigMap volume,
			// which would otherwise load every template twice.
			if path != root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !isTemplateFile(d.Name()) {
				return nil
			}
			key, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			return add(path, key)
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

func isTemplateFile(name string) bool {
	switch filepath.Ext(name) {
	case ".yaml", ".yml", ".tpl", ".tmpl":
		return true
	}
	return false
}
