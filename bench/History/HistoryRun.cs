namespace History;

/// <summary>
/// A fault the host injects and heals: its kind, and how. One that <paramref name="CutsRequests"/> (a service
/// replica killed) leaves the requests in flight through it without an answer, which the checker excuses
/// while it lasts: a client cannot tell such a write from a 503 <c>unknown</c>, and retries it as one.
/// </summary>
public sealed record Fault(string Kind, Func<CancellationToken, Task> InjectAndHealAsync, bool CutsRequests = false);

/// <summary>When a fault that cuts requests began and was healed, on the run's clock.</summary>
public readonly record struct Window(TimeSpan From, TimeSpan To)
{
    public bool Overlaps(Operation operation) => operation.Start <= To && operation.End >= From;
}

/// <summary>
/// One run: the workload throughout, the faults one after another with a quiet spell around each, then,
/// once the workload has stopped, the users the service lists, and the checker's verdict on it all. With
/// <c>historyFile</c>, every request and answer is written there too, one a line, for a verdict to be read
/// against.
/// </summary>
public static class HistoryRun
{
    public static async Task<Verdict> RunAsync(
        Func<HttpClient> createClient,
        IEnumerable<Fault> faults,
        TimeSpan quiet,
        WorkloadOptions? options = null,
        string? historyFile = null,
        CancellationToken cancellationToken = default)
    {
        var workload = new Workload(createClient, options);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = workload.RunAsync(stop.Token);
        var injected = new List<string>();
        var cuts = new List<Window>();
        try
        {
            await Task.Delay(quiet, cancellationToken);
            foreach (var fault in faults)
            {
                var from = workload.Now;
                await fault.InjectAndHealAsync(cancellationToken);
                injected.Add(fault.Kind);
                if (fault.CutsRequests)
                {
                    cuts.Add(new(from, workload.Now));
                }

                await Task.Delay(quiet, cancellationToken);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }

        var final = await workload.FinalStateAsync(TimeSpan.FromSeconds(30));
        if (historyFile is not null)
        {
            await File.WriteAllLinesAsync(historyFile, workload.History.OrderBy(operation => operation.Start).Select(operation => operation.ToString()), cancellationToken);
        }

        return Checker.Check(workload.History, final, injected, cuts);
    }
}
