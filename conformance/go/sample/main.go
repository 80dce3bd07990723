// The API page's Golang SDK sample (/work/shared/spec/ticket_images.zh.md,
// 调用示例 > Golang SDK), kept as printed. Only the values differ: the app's
// credentials, the ids and the file path come from the environment, and the
// client gets this server's base URL and the helpdesk credential, which every
// helpdesk API needs (the printed sample has neither, so against Feishu too it
// would be answered 154003).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/larksuite/oapi-sdk-go/v3"
	"github.com/larksuite/oapi-sdk-go/v3/core"
	"github.com/larksuite/oapi-sdk-go/v3/service/helpdesk/v1"
)

// SDK 使用文档：https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/server-side-sdk/golang-sdk-guide/preparations
// 复制该 Demo 后, 需要将 "YOUR_APP_ID", "YOUR_APP_SECRET" 替换为自己应用的 APP_ID, APP_SECRET.
// 以下示例代码默认根据文档示例值填充，如果存在代码问题，请在 API 调试台填上相关必要参数后再复制代码使用
func main() {
	// 创建 Client
	client := lark.NewClient(os.Getenv("APP_ID"), os.Getenv("APP_SECRET"),
		lark.WithOpenBaseUrl(os.Getenv("BASE_URL")),
		lark.WithHelpdeskCredential(os.Getenv("HELPDESK_ID"), os.Getenv("HELPDESK_TOKEN")))
	// 创建请求对象
	req := larkhelpdesk.NewTicketImageTicketReqBuilder().
		TicketId(os.Getenv("TICKET_ID")).
		MsgId(os.Getenv("MSG_ID")).
		Index(0).
		Build()

	// 发起请求
	resp, err := client.Helpdesk.V1.Ticket.TicketImage(context.Background(), req, larkcore.WithNeedHelpDeskAuth())

	// 处理错误
	if err != nil {
		fmt.Println(err)
		return
	}

	// 服务端错误处理
	if !resp.Success() {
		fmt.Printf("logId: %s, error response: \n%s", resp.RequestId(), larkcore.Prettify(resp.CodeError))
		return
	}

	// 业务处理
	resp.WriteFile(os.Getenv("FILE_PATH"))
}
