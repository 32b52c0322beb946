"""The algebra validator: is each equation in a variable implied by the earlier ones?"""
