module roster

go 1.26.8

require (
	github.com/getkin/kin-openapi v0.153.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)
