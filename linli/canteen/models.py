"""The friendship canteen (友谊食堂): menus, capacity, orders, subsidies, delivery rounds (docs/canteen.md)."""
