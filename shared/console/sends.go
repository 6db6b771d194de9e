package console

// sendsRoutes registers New send with a number list or a spreadsheet (seed 002).
func (c *Console) sendsRoutes(route routeFunc) {
}
