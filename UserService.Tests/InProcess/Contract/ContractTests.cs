using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Contract;

/// <summary>
/// Every status the API document lists for an operation is provoked, and every answer is checked against
/// the document: its status is listed, and its content type, headers and body match. A status the
/// document lists with no way here to provoke it fails too, so the document cannot promise more than is tested.
/// </summary>
public sealed class ContractTests(ContractServices services) : IClassFixture<ContractServices>
{
    private const int Unknown = int.MaxValue;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static TheoryData<string, int> Provoked => [.. Provocations.Keys.Select(key => new TheoryDataRow<string, int>(key.OperationId, key.Status))];

    /// <summary>How to make each operation answer each status, given the service that can.</summary>
    private static readonly Dictionary<(string OperationId, int Status), Func<ContractServices, Task<HttpResponseMessage>>> Provocations =
        new Dictionary<(string, int), Func<ContractServices, Task<HttpResponseMessage>>>
        {
            [("ListUsers", 200)] = async s => { await s.CreateUserAsync(); await s.CreateUserAsync(); return await s.Send(HttpMethod.Get, "/api/users?limit=1"); },
            [("ListUsers", 400)] = s => s.Send(HttpMethod.Get, "/api/users?limit=0"),
            [("GetUser", 200)] = async s => await s.Send(HttpMethod.Get, $"/api/users/{(await s.CreateUserAsync()).Id}"),
            [("GetUser", 400)] = s => s.SendMalformedAsync("GET /api/users/1%00"),
            [("GetUser", 404)] = s => s.Send(HttpMethod.Get, $"/api/users/{Unknown}"),
            [("CreateUser", 201)] = s => s.Send(HttpMethod.Post, "/api/users", JsonContent.Create(TestUsers.Unique())),
            [("CreateUser", 400)] = s => s.Send(HttpMethod.Post, "/api/users", Bodies.Json("""{"username":"A","email":""}""")),
            [("CreateUser", 409)] = async s => await s.Send(HttpMethod.Post, "/api/users", JsonContent.Create(Again(await s.CreateUserAsync()))),
            [("CreateUser", 422)] = async s =>
            {
                var key = Guid.NewGuid().ToString();
                (await s.Send(HttpMethod.Post, "/api/users", JsonContent.Create(TestUsers.Unique()), idempotencyKey: key)).Dispose();
                return await s.Send(HttpMethod.Post, "/api/users", JsonContent.Create(TestUsers.Unique()), idempotencyKey: key);
            },
            [("UpdateUser", 200)] = async s => await s.Send(HttpMethod.Put, $"/api/users/{(await s.CreateUserAsync()).Id}", JsonContent.Create(TestUsers.Unique())),
            [("UpdateUser", 400)] = s => s.Send(HttpMethod.Put, $"/api/users/{Unknown}", Bodies.Json("""{"username":"A","email":"x"}""")),
            [("UpdateUser", 404)] = s => s.Send(HttpMethod.Put, $"/api/users/{Unknown}", JsonContent.Create(TestUsers.Unique())),
            [("UpdateUser", 409)] = async s =>
            {
                var (taken, user) = (await s.CreateUserAsync(), await s.CreateUserAsync());
                return await s.Send(HttpMethod.Put, $"/api/users/{user.Id}", JsonContent.Create(new NewUser(taken.Username, user.Email)));
            },
            [("UpdateUser", 412)] = async s => await s.Send(HttpMethod.Put, $"/api/users/{(await s.CreateUserAsync()).Id}", JsonContent.Create(TestUsers.Unique()), ifMatch: "\"999999\""),
            [("DeleteUser", 400)] = s => s.SendMalformedAsync("DELETE /api/users/1%00"),
            [("DeleteUser", 204)] = async s => await s.Send(HttpMethod.Delete, $"/api/users/{(await s.CreateUserAsync()).Id}"),
            [("DeleteUser", 404)] = s => s.Send(HttpMethod.Delete, $"/api/users/{Unknown}"),
            [("DeleteUser", 412)] = async s => await s.Send(HttpMethod.Delete, $"/api/users/{(await s.CreateUserAsync()).Id}", ifMatch: "\"999999\""),
        }
        .Concat(Shared("ListUsers", HttpMethod.Get, "/api/users", body: false))
        .Concat(Shared("GetUser", HttpMethod.Get, "/api/users/1", body: false))
        .Concat(Shared("CreateUser", HttpMethod.Post, "/api/users", body: true))
        .Concat(Shared("UpdateUser", HttpMethod.Put, "/api/users/1", body: true))
        .Concat(Shared("DeleteUser", HttpMethod.Delete, "/api/users/1", body: false))
        .ToDictionary();

    private static NewUser Again(UserDto user) => new(user.Username, user.Email);

    [Fact]
    public async Task EveryDocumentedStatusOfEveryOperationIsProvokedHere()
    {
        var document = await services.DocumentAsync();

        var documented = document.Operations.SelectMany(operation => document.StatusesOf(operation.OperationId).Select(status => $"{operation.OperationId} {status}"));

        Assert.Equal(documented.Order(), Provocations.Keys.Select(key => $"{key.OperationId} {key.Status}").Order());
    }

    [Theory]
    [MemberData(nameof(Provoked))]
    public async Task AnswerIsTheDocumentedOne(string operationId, int status)
    {
        var document = await services.DocumentAsync();

        using var response = await Provocations[(operationId, status)](services);

        Assert.Equal(status, (int)response.StatusCode);
        await document.AssertConformsAsync(operationId, response);
    }

    /// <summary>What the pipeline in front of the handler answers, for any operation.</summary>
    private static IEnumerable<KeyValuePair<(string, int), Func<ContractServices, Task<HttpResponseMessage>>>> Shared(
        string operationId, HttpMethod method, string path, bool body)
    {
        HttpContent? Valid() => body ? JsonContent.Create(TestUsers.Unique()) : null;

        yield return new((operationId, 401), s => s.Send(method, path, Valid(), token: ""));
        yield return new((operationId, 403), s => s.Send(method, path, Valid(), token: TestTokens.Create(scopes: [])));
        yield return new((operationId, 429), async s =>
        {
            var caller = TestTokens.Create(subject: Guid.NewGuid().ToString());
            for (var i = 0; i < RateLimitedUserService.Limit; i++)
            {
                (await s.Send(method, path, Valid(), token: caller, service: s.Limited)).Dispose();
            }

            return await s.Send(method, path, Valid(), token: caller, service: s.Limited);
        });
        yield return new((operationId, 431), s => s.Send(method, path, Valid(), padding: new string('x', 20 * 1024)));
        yield return new((operationId, 503), s => s.Send(method, path, Valid(), service: s.StoreDown));
        if (body)
        {
            yield return new((operationId, 413), s => s.Send(method, path, Bodies.Json($$"""{"username":"{{new string('a', 20 * 1024)}}"}""")));
            yield return new((operationId, 415), s => s.Send(method, path, new StringContent("username=a")));
        }
    }
}

/// <summary>The services the contract test needs: a healthy one, one with a tight rate limit, one whose store is down.</summary>
public sealed class ContractServices(GarnetStoreServer store) : IAsyncLifetime
{
    private ApiDocument? document;

    public GarnetUserService Healthy { get; } = new(store);

    public RateLimitedUserService Limited { get; } = new(store);

    public StoreDownUserService StoreDown { get; } = new(store);

    public async ValueTask InitializeAsync()
    {
        await Healthy.InitializeAsync();
        await Limited.InitializeAsync();

        // On Kestrel, not the in-memory test server: the limits on headers and bodies are Kestrel's.
        foreach (var service in new UserServiceFactory[] { Healthy, Limited, StoreDown })
        {
            service.UseKestrel(0);
            service.StartServer();
        }
    }

    public async Task<ApiDocument> DocumentAsync()
    {
        using var client = Healthy.CreateClient();
        return document ??= new ApiDocument(JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken))!);
    }

    public async Task<UserDto> CreateUserAsync()
    {
        using var api = Healthy.CreateApiClient();
        return (await api.CreateAsync(TestUsers.Unique())).User;
    }

    /// <summary>
    /// Sends a request with a token that grants every scope, or <paramref name="token"/> (empty: none), to
    /// <paramref name="service"/> or the healthy one.
    /// </summary>
    public async Task<HttpResponseMessage> Send(
        HttpMethod method,
        string path,
        HttpContent? content = null,
        string? token = null,
        string? ifMatch = null,
        string? padding = null,
        UserServiceFactory? service = null,
        string? idempotencyKey = null)
    {
        using var client = (service ?? Healthy).CreateClient();
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token != "")
        {
            request.Headers.Authorization = new("Bearer", token ?? TestTokens.Create());
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (padding is not null)
        {
            request.Headers.Add("X-Padding", padding);
        }

        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="requestLine"/> over a socket of its own, as no HttpClient would: a request that
    /// Kestrel refuses before the service sees it. Answers its status, with its (empty) body.
    /// </summary>
    public async Task<HttpResponseMessage> SendMalformedAsync(string requestLine)
    {
        var address = new Uri(Healthy.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, address.Port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{requestLine} HTTP/1.1\r\nHost: localhost\r\n\r\n"), TestContext.Current.CancellationToken);
        // Kestrel closes the connection after a refusal, so reading to the end is bounded.
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer, TestContext.Current.CancellationToken);
        var head = Encoding.ASCII.GetString(answer.ToArray()).Split("\r\n\r\n")[0].Split("\r\n");
        var response = new HttpResponseMessage((HttpStatusCode)int.Parse(head[0].Split(' ')[1], CultureInfo.InvariantCulture))
        {
            Content = new ByteArrayContent([]),
        };
        foreach (var header in head.Skip(1).Select(line => line.Split(": ", 2)))
        {
            if (!response.Headers.TryAddWithoutValidation(header[0], header[1]))
            {
                response.Content.Headers.TryAddWithoutValidation(header[0], header[1]);
            }
        }

        return response;
    }

    public async ValueTask DisposeAsync()
    {
        await Healthy.DisposeAsync();
        await Limited.DisposeAsync();
        await StoreDown.DisposeAsync();
    }
}
