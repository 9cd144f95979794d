using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.ClosedBox.Reliability;

/// <summary>
/// SIGTERM, as an orchestrator sends it before it removes a replica: the service stops taking new work,
/// finishes what it has begun, and exits cleanly, with every write it acknowledged whole in the store.
/// </summary>
public sealed class ShutdownTests(GarnetStoreServer store)
{
    private const int HeldRequests = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SigtermUnderLoadLetsRequestsInFlightFinishAndLosesNoAcknowledgedWrite()
    {
        var connectionString = await store.ClaimEmptyDatabaseAsync();
        await using var service = await ServiceProcess.StartAsync(connectionString);

        // Creates the service has begun and cannot finish until the test lets the rest of their bodies through.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var heldClients = Enumerable.Range(0, HeldRequests).Select(_ => service.CreateApiClient()).ToList();
        var held = heldClients
            .Select(client => client.PostAsync("/api/users", new HeldBackContent(TestUsers.Unique(), release.Task), Cancellation))
            .ToList();
        using var management = service.CreateManagementClient();
        var active = await Eventually.MatchAsync(
            cancellation => ActivePostsAsync(management, cancellation), count => count >= HeldRequests, Timeout);
        Assert.Equal(HeldRequests, active);

        // Load alongside, until the service stops answering.
        var load = WriteLoad.Start(4, service.CreateApiClient, untilUnanswered: true);
        await load.AcknowledgedAtLeastAsync(50, Timeout);

        await service.TerminateAsync();
        var draining = await Eventually.MatchAsync(
            _ => Task.FromResult(service.Output.Any(line => line.Contains("Application is shutting down", StringComparison.Ordinal))),
            seen => seen,
            Timeout);
        var pendingWhileDraining = held.Count(response => !response.IsCompleted);
        release.SetResult();
        var heldStatuses = (await Task.WhenAll(held).WaitAsync(Timeout, Cancellation)).Select(response => response.StatusCode).ToList();
        var exitCode = await service.WaitForExitAsync(Timeout);
        await load.StopAsync();

        Assert.True(draining, "The service never logged that it was shutting down.");
        Assert.Equal(HeldRequests, pendingWhileDraining);
        Assert.True(
            heldStatuses.All(status => status == HttpStatusCode.Created),
            $"Held creates answered {string.Join(", ", heldStatuses)}; the service wrote:\n{string.Join("\n", service.Output.TakeLast(30))}");
        Assert.Equal(0, exitCode);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var missing = new List<long>();
        foreach (var id in load.Acknowledged)
        {
            if (!await redis.GetDatabase().HashExistsAsync(StoreLayout.DataOf(id), id))
            {
                missing.Add(id);
            }
        }

        Assert.True(missing.Count == 0, $"{missing.Count} of {load.Acknowledged.Count} acknowledged users are missing: {string.Join(", ", missing.Take(20))}");
        await StoreInvariants.AssertConsistentAsync(connectionString);
        heldClients.ForEach(client => client.Dispose());
    }

    /// <summary>POST requests the service is in the middle of, from its own metrics.</summary>
    private static async Task<int> ActivePostsAsync(HttpClient management, CancellationToken cancellation)
    {
        var metrics = await management.GetStringAsync("/metrics", cancellation);
        return metrics.Split('\n')
            .Where(line => line.StartsWith("http_server_active_requests{", StringComparison.Ordinal) && line.Contains("http_request_method=\"POST\"", StringComparison.Ordinal))
            .Sum(line => (int)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>A JSON body whose second half is sent only once the task it is given completes.</summary>
    private sealed class HeldBackContent : HttpContent
    {
        private readonly byte[] body;
        private readonly Task release;

        public HeldBackContent(NewUser user, Task release)
        {
            body = JsonSerializer.SerializeToUtf8Bytes(user, JsonSerializerOptions.Web);
            this.release = release;
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var half = body.Length / 2;
            await stream.WriteAsync(body.AsMemory(0, half));
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(body.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
