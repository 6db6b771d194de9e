package console

// conversationRoutes registers expired WhatsApp conversations (seed 002).
func (c *Console) conversationRoutes(route routeFunc) {
}
