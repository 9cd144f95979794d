using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// A generated stream of malformed and hostile requests: none may answer 5xx, every refusal is problem
/// details, and the store is as consistent afterwards as before. Refusing is the service's work, not the
/// store's, so one engine is enough.
/// </summary>
public sealed class HostileInputTests(GarnetUserService factory) : IClassFixture<GarnetUserService>
{
    private const int Requests = 1200;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static readonly string[] Ids =
        ["0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999999", "abc", "1e3", "1.0", "%20", "%2e%2e", "0x10", " 1", "1;drop"];

    private static readonly string[] Queries =
    [
        "limit=-5", "limit=0", "limit=abc", "limit=1&limit=2", "limit=1001", "limit=99999999999", "after=-1", "after=1e99",
        "after=%00", "after=1&after=2", $"username={new string('a', 300)}", "username=%00", "email=%0d%0a",
        $"email={new string('e', 400)}@example.com", "username=&email=", "limit=%20", "unknown=1", "username=a&username=b",
    ];

    private static readonly string[] ContentTypes =
        ["application/json", "text/plain", "application/xml", "application/json; charset=utf-16", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"];

    [Fact]
    public async Task MalformedAndHostileRequestsNeverFailTheServiceAndAlwaysGetProblemDetails()
    {
        using var api = factory.CreateApiClient();
        var (_, existing) = await api.CreateAsync(TestUsers.Unique());
        var random = new Random(20261126);
        var failures = new List<string>();

        for (var i = 0; i < Requests; i++)
        {
            using var request = Generate(random, existing.Id);
            var description = $"{request.Method} {request.RequestUri} [{request.Content?.Headers.ContentType}] {Preview(await ReadBodyAsync(request))}";
            using var response = await api.SendAsync(request, TestContext.Current.CancellationToken);

            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"{(int)response.StatusCode} for {description}");
            }
            else if ((int)response.StatusCode >= 400 && !await IsProblemAsync(response))
            {
                failures.Add($"{(int)response.StatusCode} without problem details for {description}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(25)));
        await StoreInvariants.AssertConsistentAsync(factory.StoreConnectionString);
    }

    [Fact]
    public async Task BodyThatNamesAPropertyTwiceIsRefusedAndCreatesNothing()
    {
        using var api = factory.CreateApiClient();
        var (first, second) = (TestUsers.Unique(), TestUsers.Unique());
        var body = $$"""{"username":"{{first.Username}}","email":"{{first.Email}}","username":"{{second.Username}}"}""";

        using var response = await api.PostAsync("/api/users", new StringContent(body, Encoding.UTF8, "application/json"), Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Empty((await api.GetFromJsonAsync<UserDto[]>($"/api/users?email={first.Email}", Cancellation))!);
    }

    [Fact]
    public async Task HeadersOver16KiBAnswerTooLargeWithProblemDetails()
    {
        using var api = factory.CreateApiClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/users");
        request.Headers.Add("X-Padding", new string('x', 17 * 1024));

        using var response = await api.SendAsync(request, Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestHeaderFieldsTooLarge);
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/metrics")]
    public async Task ManagementEndpointAskedForOnThePublicPortAnswersNotFoundWithProblemDetails(string path)
    {
        using var api = factory.CreateApiClient();

        using var response = await api.GetAsync(path, Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    /// <summary>Ways to write a twin of an address that a reader cannot tell apart from it.</summary>
    public static TheoryData<string> Lookalikes => ["Cyrillic a", "Kelvin sign", "Cyrillic a in the domain", "domain not in its xn-- form", "fullwidth @"];

    [Theory]
    [MemberData(nameof(Lookalikes))]
    public async Task LookalikeOfAnEmailIsRefusedOnCreateAndOnLookup(string lookalike)
    {
        using var api = factory.CreateApiClient();
        var name = $"kate-{Guid.NewGuid():N}"[..16];
        var (_, original) = await api.CreateAsync(new NewUser(name, $"{name}@example.com"));
        var twin = lookalike switch
        {
            "Cyrillic a" => $"{name.Replace('a', '\u0430')}@example.com",
            "Kelvin sign" => $"\u212A{name[1..]}@example.com",
            "Cyrillic a in the domain" => $"{name}@ex\u0430mple.com",
            "domain not in its xn-- form" => $"{name}@b\u00FCcher.example",
            _ => $"{name}\uFF20example.com",
        };

        using var create = await api.PostAsJsonAsync("/api/users", new NewUser(TestUsers.Unique().Username, twin), Cancellation);
        using var lookup = await api.GetAsync($"/api/users?email={Uri.EscapeDataString(twin)}", Cancellation);

        await ProblemAssert.IsValidationProblemAsync(create, "email");
        await ProblemAssert.IsValidationProblemAsync(lookup, "email");
        Assert.Equal([original], (await api.GetFromJsonAsync<UserDto[]>($"/api/users?email={original.Email.ToUpperInvariant()}", Cancellation))!);
    }

    private static HttpRequestMessage Generate(Random random, long existingId)
    {
        var id = random.Next(3) == 0 ? existingId.ToString() : Ids[random.Next(Ids.Length)];
        return random.Next(6) switch
        {
            0 => new HttpRequestMessage(HttpMethod.Get, $"/api/users/{id}"),
            1 => new HttpRequestMessage(HttpMethod.Get, $"/api/users?{Queries[random.Next(Queries.Length)]}"),
            2 => new HttpRequestMessage(HttpMethod.Delete, $"/api/users/{Ids[random.Next(Ids.Length)]}"),
            3 => WithBody(new HttpRequestMessage(HttpMethod.Put, $"/api/users/{id}"), random),
            4 => WithBody(new HttpRequestMessage(new HttpMethod(random.Next(2) == 0 ? "PATCH" : "POST"), "/api/users"), random),
            _ => WithBody(new HttpRequestMessage(HttpMethod.Post, "/api/users"), random),
        };
    }

    private static HttpRequestMessage WithBody(HttpRequestMessage request, Random random)
    {
        var body = Body(random);
        var content = new ByteArrayContent(body);
        var contentType = random.Next(4) == 0 ? ContentTypes[random.Next(ContentTypes.Length)] : "application/json";
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Content = content;
        if (random.Next(8) == 0)
        {
            request.Headers.TryAddWithoutValidation("If-Match", random.Next(2) == 0 ? "\"abc\"" : "W/\"1\", \"2\", *");
        }

        return request;
    }

    private static byte[] Body(Random random)
    {
        var name = $"u{random.Next(1_000_000)}";
        string json = random.Next(16) switch
        {
            0 => "{\"username\":",
            1 => "",
            2 => "null",
            3 => "[]",
            4 => $"{{\"username\":{random.Next()},\"email\":true}}",
            5 => $"{{\"username\":\"{name}\",\"email\":\"{name}@example.com\",\"id\":1e400}}",
            6 => $"{{\"username\":\"{new string('a', 5000)}\",\"email\":\"{name}@example.com\"}}",
            7 => $"{{\"username\":\"{name}\\u0000\",\"email\":\"{name}@example.com\"}}",
            8 => $"{{\"username\":\"{name}\",\"email\":\"{name}@example.com\",\"displayName\":\"\\u001b[31mred\\n\"}}",
            9 => $"{{\"username\":\"{name}\",\"email\":\"{name}@example.com\",\"isAdmin\":true}}",
            10 => $"{{\"username\":\"{name}\",\"email\":\"{name}@example.com\",\"displayName\":{string.Concat(Enumerable.Repeat("[", 64))}}}",
            11 => $"{{\"username\":[\"{name}\"],\"email\":{{\"address\":\"x\"}}}}",
            12 => $"{{\"username\":\"{name}\",\"email\":\"{name}@example.com\",\"username\":\"other\"}}",
            13 => $"{{\"username\":\"{name.ToUpperInvariant()}\",\"email\":\"not an address\"}}",
            14 => $"{{\"username\":\"{name}\",\"email\":\"{name}@example.com\",\"displayName\":{double.MaxValue}}}",
            _ => $"{{\"username\":\"{name}\",\"email\":\"{name}@example.com\"}}",
        };

        var bytes = Encoding.UTF8.GetBytes(json);
        if (random.Next(10) == 0)
        {
            // Raw bytes that are not UTF-8 at all, and a NUL in the middle of the document.
            bytes = [.. bytes.Take(bytes.Length / 2), 0x00, 0xC3, 0x28, 0xFF, .. bytes.Skip(bytes.Length / 2)];
        }

        return bytes;
    }

    private static async Task<bool> IsProblemAsync(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return false;
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return document.RootElement.TryGetProperty("status", out var status) && status.GetInt32() == (int)response.StatusCode;
    }

    private static async Task<string> ReadBodyAsync(HttpRequestMessage request) =>
        request.Content is null ? "" : Encoding.UTF8.GetString(await request.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));

    private static string Preview(string body)
    {
        var printable = string.Concat(body.Take(80).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return body.Length > 80 ? printable + "…" : printable;
    }
}
