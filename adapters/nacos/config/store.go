package config

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// KeyPrefix is where config items live in the KV space:
// nacos/config/<namespace>/<group>/<dataId>.
const KeyPrefix = "nacos/config/"

// DefaultGroup is the group of items published without one.
const DefaultGroup = "DEFAULT_GROUP"

// Errors callers map to protocol answers.
var (
	// ErrNotFound: no such item (Nacos CONFIG_NOT_FOUND, 300 over gRPC, 404 over HTTP).
	ErrNotFound = errors.New("config data not exist")
	// ErrCASMismatch: the casMd5 of a publish did not match the stored item.
	ErrCASMismatch = errors.New("Cas publish fail, server md5 may have changed.")
	// ErrInvalid: a malformed dataId, group or tenant.
	ErrInvalid = errors.New("invalid config parameter")
)

// Key identifies a config item. Tenant is the namespace exactly as the
// client spelled it ("" or "public"); it is echoed in change notices
// because clients key their caches on it.
type Key struct {
	Tenant string
	Group  string
	DataID string
}

// Namespace is the tenant with "" and "public" made one.
func (k Key) Namespace() string {
	if k.Tenant == "" {
		return "public"
	}
	return k.Tenant
}

// StoreKey is the KV key of the item.
func (k Key) StoreKey() string {
	return KeyPrefix + k.Namespace() + "/" + k.Group + "/" + k.DataID
}

// Same reports whether two keys name the same item.
func (k Key) Same(o Key) bool {
	return k.DataID == o.DataID && k.Group == o.Group && k.Namespace() == o.Namespace()
}

// NewKey validates and normalises a key: the group defaults to
// DEFAULT_GROUP, dataId and group may only hold letters, digits and
// "-_.:" as Nacos's ParamUtils requires.
func NewKey(tenant, group, dataID string) (Key, error) {
	if group == "" {
		group = DefaultGroup
	}
	switch {
	case !validParam(dataID):
		return Key{}, fmt.Errorf("%w: dataId %q", ErrInvalid, dataID)
	case !validParam(group):
		return Key{}, fmt.Errorf("%w: group %q", ErrInvalid, group)
	case tenant != "" && !validParam(tenant):
		return Key{}, fmt.Errorf("%w: tenant %q", ErrInvalid, tenant)
	}
	return Key{Tenant: tenant, Group: group, DataID: dataID}, nil
}

// ParseStoreKey recovers a key from a KV key (tenant as the namespace).
func ParseStoreKey(k string) (Key, bool) {
	rest, ok := strings.CutPrefix(k, KeyPrefix)
	if !ok {
		return Key{}, false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 {
		return Key{}, false
	}
	return Key{Tenant: parts[0], Group: parts[1], DataID: parts[2]}, true
}

func validParam(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return false
		}
	}
	return true
}

// Item is one config item.
type Item struct {
	Key
	Content      string
	MD5          string
	LastModified time.Time
	Revision     int64
}

// ContentType guesses the item's type from its dataId extension, because
// the KV space keeps only the content (Nacos keeps the type the publisher
// gave; see docs/adapters/nacos.md).
func (it *Item) ContentType() string {
	switch ext := strings.TrimPrefix(path.Ext(it.DataID), "."); ext {
	case "yaml", "yml":
		return "yaml"
	case "properties", "json", "xml", "html", "toml":
		return ext
	}
	return "text"
}

// MD5 is the hex MD5 Nacos uses to tell versions of a content apart.
func MD5(content string) string {
	sum := md5.Sum([]byte(content))
	return hex.EncodeToString(sum[:])
}

// Store reads and writes config items in a registry's key/value space.
type Store struct{ kv registry.KeyValues }

// NewStore returns a config store over s.
func NewStore(s registry.KeyValues) *Store { return &Store{kv: s} }

// Get returns one item or ErrNotFound.
func (s *Store) Get(ctx context.Context, k Key) (*Item, error) {
	kv, err := s.kv.GetKV(ctx, k.StoreKey())
	if errors.Is(err, registry.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("config: get %s: %w", k.StoreKey(), err)
	}
	return itemOf(k, kv), nil
}

// Publish writes an item. With casMD5 set the write happens only if the
// stored content still has that MD5 (ErrCASMismatch otherwise).
func (s *Store) Publish(ctx context.Context, k Key, content, casMD5 string) (*Item, error) {
	expect := int64(-1)
	if casMD5 != "" {
		cur, err := s.Get(ctx, k)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil, ErrCASMismatch
		case err != nil:
			return nil, err
		case cur.MD5 != casMD5:
			return nil, ErrCASMismatch
		}
		expect = cur.Revision
	}
	kv, err := s.kv.PutKV(ctx, &registry.KV{Key: k.StoreKey(), Value: []byte(content)}, expect)
	if errors.Is(err, registry.ErrConflict) {
		return nil, ErrCASMismatch
	}
	if err != nil {
		return nil, fmt.Errorf("config: publish %s: %w", k.StoreKey(), err)
	}
	return itemOf(k, kv), nil
}

// Remove deletes an item; removing a missing item succeeds, as in Nacos.
func (s *Store) Remove(ctx context.Context, k Key) error {
	_, err := s.kv.DeleteKV(ctx, k.StoreKey(), -1)
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("config: remove %s: %w", k.StoreKey(), err)
	}
	return nil
}

// CurrentMD5 is the MD5 of the stored item, or "" when there is none.
func (s *Store) CurrentMD5(ctx context.Context, k Key) (string, error) {
	it, err := s.Get(ctx, k)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return it.MD5, nil
}

func itemOf(k Key, kv *registry.KV) *Item {
	content := string(kv.Value)
	return &Item{Key: k, Content: content, MD5: MD5(content), LastModified: kv.Updated, Revision: kv.Revision}
}
