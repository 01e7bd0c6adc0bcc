package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenFrom(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, env, file, want, err string
	}{
		{"none", "", "", "", "", ""},
		{"configured wins", "configured", "from-env", file, "configured", ""},
		{"environment before the file", "", "from-env", file, "from-env", ""},
		{"file, trimmed", "", "", file, "from-file", ""},
		{"missing file", "", "", filepath.Join(t.TempDir(), "absent"), "", "read the token file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(TokenEnv, tt.env)
			got, err := TokenFrom(tt.token, tt.file)
			if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("TokenFrom = %q, %v; want %q, %q", got, err, tt.want, tt.err)
			}
		})
	}
}
