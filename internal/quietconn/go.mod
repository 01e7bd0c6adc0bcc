module github.com/meshbridge/meshbridge/internal/quietconn

go 1.26.0
