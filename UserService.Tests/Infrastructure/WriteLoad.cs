using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// Writers that create users, one request after another each, until stopped: the load a crash, a stop or a
/// signal meets. Keeps what the answers were: the ids acknowledged, the 5xx answers, the requests that got
/// no answer at all.
/// </summary>
public sealed class WriteLoad
{
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> writers;

    private WriteLoad(int writers, Func<HttpClient> createClient, bool untilUnanswered) =>
        this.writers = Enumerable.Range(0, writers).Select(_ => Task.Run(() => WriteAsync(createClient, untilUnanswered))).ToList();

    public ConcurrentBag<long> Acknowledged { get; } = [];

    /// <summary>5xx answers other than 503: the service failing, not a store that was slow or away for a moment.</summary>
    public ConcurrentBag<HttpStatusCode> ServerErrors { get; } = [];

    /// <summary>When each 503 came: the store did not answer in time, which a loaded machine can make happen, or was away.</summary>
    public ConcurrentBag<DateTimeOffset> Unavailable { get; } = [];

    public ConcurrentBag<string> Unanswered { get; } = [];

    /// <summary>
    /// Starts <paramref name="writers"/> writers, each with a client of its own from <paramref name="createClient"/>.
    /// With <paramref name="untilUnanswered"/>, a writer stops at the first request that gets no answer.
    /// </summary>
    public static WriteLoad Start(int writers, Func<HttpClient> createClient, bool untilUnanswered = false) =>
        new(writers, createClient, untilUnanswered);

    /// <summary>Waits until at least <paramref name="count"/> writes were acknowledged, within <paramref name="timeout"/>.</summary>
    public Task<int> AcknowledgedAtLeastAsync(int count, TimeSpan timeout) =>
        Eventually.MatchAsync(_ => Task.FromResult(Acknowledged.Count), acknowledged => acknowledged >= count, timeout);

    /// <summary>The acknowledged ids that <paramref name="api"/> does not find, allowing each a store that is still coming back.</summary>
    public async Task<List<long>> MissingAsync(HttpClient api)
    {
        var missing = new List<long>();
        foreach (var id in Acknowledged)
        {
            var status = await Eventually.StatusAsync(
                api, $"/api/users/{id}", status => status != HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(10));
            if (status != HttpStatusCode.OK)
            {
                missing.Add(id);
            }
        }

        return missing;
    }

    public async Task StopAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        stop.Dispose();
    }

    private async Task WriteAsync(Func<HttpClient> createClient, bool untilUnanswered)
    {
        using var api = createClient();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await api.PostAsJsonAsync("/api/users", TestUsers.Unique(), TestContext.Current.CancellationToken);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    Acknowledged.Add((await response.Content.ReadFromJsonAsync<UserDto>(TestContext.Current.CancellationToken))!.Id);
                }
                else if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Unavailable.Add(DateTimeOffset.UtcNow);
                }
                else if ((int)response.StatusCode >= 500)
                {
                    ServerErrors.Add(response.StatusCode);
                }
            }
            catch (HttpRequestException exception)
            {
                // No answer: not acknowledged, so nothing is owed for it; the caller would retry.
                Unanswered.Add(exception.Message);
                if (untilUnanswered)
                {
                    return;
                }
            }
        }
    }
}
