namespace UserService.Users;

/// <summary>
/// In Development, a store that never held a user gets the original service's two users, so that a
/// newcomer's first <c>GET /api/users</c> shows data. Replicas that race here are harmless: the second
/// one's creates find the usernames taken.
/// </summary>
internal sealed class DevelopmentSeed(UserStore store, ILogger<DevelopmentSeed> logger) : IHostedService
{
    internal static readonly UserFields[] Users =
    [
        new("alice", "alice@example.com", "Alice"),
        new("bob", "bob@example.com", "Bob"),
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!await store.IsEmptyAsync())
        {
            return;
        }

        var created = 0;
        foreach (var user in Users)
        {
            if ((await store.CreateAsync(user)).Outcome == WriteOutcome.Done)
            {
                created++;
            }
        }

        logger.Seeded(created);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
