"""What every domain stands on and none owns: the unit of work (one transaction per use case, and
who is acting), the history's event rows, and the session hooks that owe work to every commit.

Why a package of its own: the domains (services, enforcement, city, identity) all need these, and
if they lived in one of the domains the others would import it back, and the domains would form
import cycles (the layers contract in setup.cfg keeps them out).
"""
