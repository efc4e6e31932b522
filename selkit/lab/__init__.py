"""The lab: a throwaway enforcing VM that runs the confined daemons, real traffic and an attack
battery."""
