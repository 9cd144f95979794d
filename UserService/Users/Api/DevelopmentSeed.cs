using UserService.Infrastructure;
using UserService.Users.Store;

namespace UserService.Users.Api;

/// <summary>
/// In Development, a store that never held a user gets the original service's two users, so that a
/// newcomer's first <c>GET /api/users</c> shows data. It runs in the background and retries until the store
/// answers, so a slow or absent store at start delays the seed, never the service. Replicas that race here
/// are harmless: the second one's creates find the usernames taken.
/// </summary>
internal sealed class DevelopmentSeed(UserStore store, StoreLayoutGate layout, ILogger<DevelopmentSeed> logger) : CoalescedWork(logger)
{
    internal static readonly UserFields[] Users =
    [
        new("alice", "alice@example.com", "Alice"),
        new("bob", "bob@example.com", "Bob"),
    ];

    private bool storeWasEmpty;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Request();
        return base.ExecuteAsync(stoppingToken);
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        await layout.WaitAsync(stoppingToken);
        // A retry after a failure half-way carries on with the seed it started.
        if (!storeWasEmpty && !await store.IsEmptyAsync())
        {
            return;
        }

        storeWasEmpty = true;

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
}
