module helpdesk/conformance/go

go 1.19

require github.com/larksuite/oapi-sdk-go/v3 v3.12.0
