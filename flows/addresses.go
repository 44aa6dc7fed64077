package flows

import "supportbot/bot"

// addresses: the address book (being written; see issue 7).
func (k *kit) addresses() bot.Flow {
	return bot.Flow{Name: Addresses, Start: "list", Title: "addresses.title", Command: "addresses",
		States: []bot.State{{Name: "list", Prompt: "addresses.title", Input: bot.End{}}}}
}
