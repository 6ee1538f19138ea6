"""Video: projects with a timeline, and render jobs that turn a timeline into a media artifact."""
