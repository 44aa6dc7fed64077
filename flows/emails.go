package flows

import "supportbot/bot"

// emails: additional email addresses (being written; see issue 7).
func (k *kit) emails() bot.Flow {
	return bot.Flow{Name: Emails, Start: "list", Title: "emails.title", Command: "emails",
		States: []bot.State{{Name: "list", Prompt: "emails.title", Input: bot.End{}}}}
}
