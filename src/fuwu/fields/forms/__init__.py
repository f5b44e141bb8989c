"""Forms: compiled once from a definition, then validated, drawn, shown, filtered, exported."""
