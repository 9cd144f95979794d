using System.Net.Http.Json;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Users;

/// <summary>In Development an empty store starts with the original service's two users.</summary>
public sealed class SeedTests(DevelopmentUserService factory) : IClassFixture<DevelopmentUserService>
{
    private const int DevelopmentSeedCount = 2;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheOriginalServicesTwoCallsAnswerAsBefore()
    {
        using var api = factory.CreateApiClient();

        // The seed runs in the background, once the store answers.
        var users = await Eventually.MatchAsync(
            cancellation => api.GetFromJsonAsync<UserDto[]>("/api/users", cancellation),
            found => found?.Length == DevelopmentSeedCount,
            TimeSpan.FromSeconds(30));
        var first = await api.GetFromJsonAsync<UserDto>("/api/users/1", Cancellation);

        Assert.Equal(
            [(1L, "alice", "alice@example.com"), (2L, "bob", "bob@example.com")],
            users!.Select(user => (user.Id, user.Username, user.Email)));
        Assert.Equal((1L, "alice", "alice@example.com"), (first!.Id, first.Username, first.Email));
    }
}
