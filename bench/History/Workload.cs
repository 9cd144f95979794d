using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace History;

/// <summary>How many clients the workload runs, and how few values they share.</summary>
public sealed record WorkloadOptions
{
    public int Clients { get; init; } = 12;

    /// <summary>Usernames and emails in the pool: few, so that writes collide.</summary>
    public int Values { get; init; } = 8;

    /// <summary>How long a client retries a request through its 503s before it gives up.</summary>
    public TimeSpan RetryFor { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longer than any answer may take: a request still unanswered then counts as unanswered.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Clients that create, rename and delete users on a small pool of usernames and emails, with and without
/// Idempotency-Key and If-Match, and read them by id, by username and a page at a time; each retries as the
/// docs tell a client to: a create with its key, or one the service says it did not apply; a replace or a
/// delete with its If-Match, or as it is. Every attempt is recorded.
/// </summary>
public sealed class Workload
{
    private readonly Func<HttpClient> createClient;
    private readonly WorkloadOptions options;
    private readonly string prefix = "h" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..6];
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Operation> history = new();
    /// <summary>The users the clients know of, from any answer that showed them, with their ETag where an answer gave one.</summary>
    private readonly ConcurrentDictionary<long, string?> known = new();
    private long logical;

    public Workload(Func<HttpClient> createClient, WorkloadOptions? options = null)
    {
        this.createClient = createClient;
        this.options = options ?? new WorkloadOptions();
    }

    /// <summary>Every attempt so far, in the order they ended.</summary>
    public IReadOnlyList<Operation> History => [.. history];

    /// <summary>Time on the run's clock, which every operation is timed by.</summary>
    public TimeSpan Now => clock.Elapsed;

    /// <summary>Runs the clients until <paramref name="stop"/> is cancelled; each finishes the request it has begun.</summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, options.Clients).Select(client => Task.Run(() => ClientAsync(client, stop), CancellationToken.None)));

    /// <summary>Every user the service lists once the faults are healed, read page by page through 503s.</summary>
    public async Task<IReadOnlyList<Observed>> FinalStateAsync(TimeSpan timeout)
    {
        using var http = new WorkloadClient(createClient, options.RequestTimeout);
        var deadline = clock.Elapsed + timeout;
        var users = new List<Observed>();
        for (var after = 0L; ;)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/users?after={after}&limit=1000");
            using var response = await http.SendAsync(request);
            if ((int)response.StatusCode == 503 && clock.Elapsed < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
                continue;
            }

            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var page = Users(json.RootElement);
            users.AddRange(page);
            if (!response.Headers.Contains("Link"))
            {
                return users;
            }

            after = page[^1].Id;
        }
    }

    private async Task ClientAsync(int client, CancellationToken stop)
    {
        using var http = new WorkloadClient(createClient, options.RequestTimeout);
        var random = new Random(client * 7919 + Environment.TickCount);
        while (!stop.IsCancellationRequested)
        {
            var ids = known.Keys.ToArray();
            var target = ids.Length == 0 ? 0 : ids[random.Next(ids.Length)];
            var roll = ids.Length == 0 ? 0 : random.Next(100);
            switch (roll)
            {
                case < 30:
                    await CreateAsync(http, client, random);
                    break;
                case < 45:
                    await ReplaceAsync(http, client, random, target);
                    break;
                case < 60:
                    await DeleteAsync(http, client, random, target);
                    break;
                case < 80:
                    await ReadAsync(http, client, OperationKind.Get, HttpMethod.Get, $"/api/users/{target}", userId: target);
                    break;
                case < 95:
                    var username = Value(random);
                    await ReadAsync(http, client, OperationKind.Lookup, HttpMethod.Get, $"/api/users?username={username}", username: username);
                    break;
                default:
                    await ReadAsync(http, client, OperationKind.Page, HttpMethod.Get, $"/api/users?after={Math.Max(0, target - 10)}&limit=20");
                    break;
            }
        }
    }

    private async Task CreateAsync(WorkloadClient http, int client, Random random)
    {
        var (username, email, token) = Fields(random);
        var key = random.Next(2) == 0 ? Guid.NewGuid().ToString() : null;
        var body = Body(username, email, token);
        await RetryAsync(() => SendAsync(http, client, logical: 0, OperationKind.Create, HttpMethod.Post, "/api/users", body: body, key: key,
            username: username, email: email, token: token), retried => key is not null || retried.Outcome == "not-applied");
    }

    private async Task ReplaceAsync(WorkloadClient http, int client, Random random, long id)
    {
        var (username, email, token) = Fields(random);
        var ifMatch = random.Next(2) == 0 ? known.GetValueOrDefault(id) : null;
        var body = Body(username, email, token);
        await RetryAsync(() => SendAsync(http, client, logical: 0, OperationKind.Replace, HttpMethod.Put, $"/api/users/{id}", body: body, ifMatch: ifMatch,
            userId: id, username: username, email: email, token: token), _ => true);
    }

    private async Task DeleteAsync(WorkloadClient http, int client, Random random, long id)
    {
        var ifMatch = random.Next(2) == 0 ? known.GetValueOrDefault(id) : null;
        await RetryAsync(() => SendAsync(http, client, logical: 0, OperationKind.Delete, HttpMethod.Delete, $"/api/users/{id}", ifMatch: ifMatch, userId: id), _ => true);
    }

    /// <summary>
    /// Sends a write, and again after each 503, or no answer at all (which is as unknown as a 503 <c>unknown</c>),
    /// that <paramref name="retry"/> allows, for <see cref="WorkloadOptions.RetryFor"/> at most.
    /// </summary>
    private async Task RetryAsync(Func<Task<(Operation Operation, TimeSpan RetryAfter)>> send, Func<Operation, bool> retry)
    {
        var id = Next();
        var until = clock.Elapsed + options.RetryFor;
        while (true)
        {
            var (operation, retryAfter) = await send();
            history.Enqueue(operation with { Logical = id });
            if (operation.Status is not (503 or 0) || !retry(operation) || clock.Elapsed + retryAfter > until)
            {
                return;
            }

            await Task.Delay(retryAfter);
        }
    }

    private async Task ReadAsync(WorkloadClient http, int client, OperationKind kind, HttpMethod method, string path, long? userId = null, string? username = null)
    {
        var (operation, _) = await SendAsync(http, client, Next(), kind, method, path, userId: userId, username: username);
        history.Enqueue(operation);
    }

    private async Task<(Operation Operation, TimeSpan RetryAfter)> SendAsync(
        WorkloadClient http, int client, long logical, OperationKind kind, HttpMethod method, string path,
        string? body = null, string? key = null, string? ifMatch = null, long? userId = null, string? username = null, string? email = null, string? token = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        var start = clock.Elapsed;
        var (status, outcome, seen, retryAfter) = (0, (string?)null, (IReadOnlyList<Observed>)[], TimeSpan.FromSeconds(1));
        try
        {
            using var response = await http.SendAsync(request);
            status = (int)response.StatusCode;
            retryAfter = response.Headers.RetryAfter?.Delta ?? retryAfter;
            var text = await response.Content.ReadAsStringAsync();
            if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType is "application/json" or "application/problem+json")
            {
                using var json = JsonDocument.Parse(text);
                outcome = status == 503 && json.RootElement.TryGetProperty("outcome", out var member) ? member.GetString() : null;
                seen = status is 200 or 201 ? Users(json.RootElement) : [];
            }

            // Every user an answer shows becomes a target, also one that a create whose answer was lost made:
            // otherwise such users would keep the pool's values from every client for good.
            foreach (var user in seen)
            {
                known.TryAdd(user.Id, null);
            }

            if (response.Headers.ETag is { } etag && seen is [var shown])
            {
                known[shown.Id] = etag.ToString();
            }
            else if (status is 404 or 204 && userId is { } gone)
            {
                known.TryRemove(gone, out _);
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
        }

        var operation = new Operation
        {
            Client = client,
            Logical = logical,
            Kind = kind,
            UserId = kind == OperationKind.Create ? seen.FirstOrDefault()?.Id : userId,
            Username = username,
            Email = email,
            Token = token,
            IdempotencyKey = key,
            IfMatch = ifMatch,
            Start = start,
            End = clock.Elapsed,
            Status = status,
            Outcome = outcome,
            Seen = seen,
        };
        return (operation, retryAfter);
    }

    private long Next() => Interlocked.Increment(ref logical);

    private string Value(Random random) => $"{prefix}-{random.Next(options.Values)}";

    /// <summary>A username and email from the pool, mostly a pair (so that a value is free as often as its pair), and a new token.</summary>
    private (string Username, string Email, string Token) Fields(Random random)
    {
        var username = Value(random);
        return (username, (random.Next(5) == 0 ? Value(random) : username) + "@example.com", Token());
    }

    private string Token() => string.Create(CultureInfo.InvariantCulture, $"{prefix} write {Next()}");

    private static string Body(string username, string email, string token) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["username"] = username, ["email"] = email, ["displayName"] = token });

    private static List<Observed> Users(JsonElement json) =>
        json.ValueKind == JsonValueKind.Array ? [.. json.EnumerateArray().Select(User)] : json.ValueKind == JsonValueKind.Object ? [User(json)] : [];

    private static Observed User(JsonElement user) => new(
        user.GetProperty("id").GetInt64(),
        user.GetProperty("username").GetString()!,
        user.GetProperty("email").GetString()!,
        user.TryGetProperty("displayName", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null);
}
