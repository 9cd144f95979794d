namespace UserService.Tests.Infrastructure;

/// <summary>A bounded wait on a condition that becomes true on its own time (a metrics scrape, a restart).</summary>
public static class Eventually
{
    public static async Task<T> MatchAsync<T>(Func<CancellationToken, Task<T>> probe, Func<T, bool> condition, TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);

        T last;
        do
        {
            last = await probe(deadline.Token);
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        while (!deadline.IsCancellationRequested);

        return last;
    }

    /// <summary>The status of GET <paramref name="path"/> once it satisfies <paramref name="condition"/>, or the last one read.</summary>
    public static Task<System.Net.HttpStatusCode> StatusAsync(
        HttpClient client, string path, Func<System.Net.HttpStatusCode, bool> condition, TimeSpan timeout) =>
        MatchAsync(
            async cancellation =>
            {
                using var response = await client.GetAsync(path, cancellation);
                return response.StatusCode;
            },
            condition,
            timeout);

    /// <summary>The status of GET <paramref name="path"/>, or 502 while nothing listens there yet.</summary>
    public static async Task<System.Net.HttpStatusCode> ProbeAsync(HttpClient client, string path, CancellationToken cancellation)
    {
        try
        {
            using var response = await client.GetAsync(path, cancellation);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return System.Net.HttpStatusCode.BadGateway;
        }
    }
}
