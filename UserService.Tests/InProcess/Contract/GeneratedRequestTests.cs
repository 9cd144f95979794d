using System.Globalization;
using System.Text.Json.Nodes;
using CsCheck;

namespace UserService.Tests.InProcess.Contract;

/// <summary>
/// Requests generated at random, valid and not, for every operation, sent to the live service and judged
/// against its own API document: each answer's status is one the document lists for the operation, its
/// body and headers match what the document says, and the service refuses with 400 exactly the requests
/// the document's schemas refuse (formats included), never one they accept. A mismatch is found without
/// anyone thinking of the case; CsCheck shrinks it and prints the request, with the seed to replay it.
/// </summary>
public sealed class GeneratedRequestTests(ContractServices services) : IClassFixture<ContractServices>
{
    private const int Iterations = 200;

    /// <summary>Pieces of text that the rules treat apart: ASCII in and out of each pattern, case, spaces, letters beyond ASCII, an emoji (two UTF-16 units), control characters C0, DEL and C1, a zero-width space.</summary>
    private static readonly string[] Pieces =
        ["a", "z", "m", "0", "9", ".", "_", "-", "A", "Z", " ", "é", "ß", "😀", "\u0085", "\u009F", "\u007F", "\n", "\t", "\u0000", "@", "+", "\"", "'", "\\", "/", "%", "#", "?", "&", "=", "\u200B"];

    private static readonly Gen<string> Text = Gen.Frequency(
        (4, Gen.OneOf(Pieces).Array[0, 40].Select(string.Concat)),
        (1, Gen.OneOf(Pieces).Array[95, 105].Select(string.Concat)),
        // Around every length bound: 3, 32, 100, 254, 255.
        (1, Gen.Int[0, 260].Select(length => new string('a', length))));

    private static readonly Gen<string> Username = Gen.Frequency(
        (3, Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789._-"].Array[1, 34].Select(chars => new string(chars))),
        (2, Text));

    private static readonly Gen<string> Email = Gen.Frequency(
        (3, Gen.Select(
            Gen.Char["abcdefghijklmnopqrstuvwxyzABC0123456789.+_-"].Array[0, 20],
            Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-"].Array[0, 15],
            Gen.OneOf(".com", ".example", ".co.uk", "", ".", "..com", "-.com"),
            (local, domain, tail) => $"{new string(local)}@{new string(domain)}{tail}")),
        (2, Text));

    /// <summary>A create's or replace's body: mostly the three fields, sometimes one missing, mistyped or unknown.</summary>
    private static readonly Gen<JsonObject> Body = Gen.Select(Username, Email, Text, Gen.Int[0, 11], (username, email, displayName, shape) =>
    {
        var body = new JsonObject { ["username"] = username, ["email"] = email, ["displayName"] = displayName };
        switch (shape)
        {
            case 0: body.Remove("username"); break;
            case 1: body["email"] = 7; break;
            case 2: body["role"] = "admin"; break;
            case 3: body.Remove("displayName"); break;
            case 4: body["displayName"] = null; break;
            case 5: body["username"] = null; break;
        }

        return body;
    });

    /// <summary>An integer parameter as sent: in range and out, at the int64 limit and past it, or no number at all.</summary>
    private static readonly Gen<string> Number = Gen.Frequency(
        (4, Gen.Long[-3, 1_005].Select(number => number.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.OneOf("9223372036854775807", "9223372036854775808", "-9223372036854775809", "ten", "", "1.5", "0x10")));

    /// <summary>A path segment for an id: mostly integers, sometimes any text. Never one that is no segment at all ("", ".", ".."): that is another path.</summary>
    private static readonly Gen<string> Id =
        Gen.Frequency((3, Gen.Long[-2, 60].Select(id => id.ToString(CultureInfo.InvariantCulture))), (1, Number), (1, Text.Select(Uri.EscapeDataString)))
            .Where(id => id is not ("" or "." or ".."));

    private static readonly Gen<string?> IfMatch = Gen.OneOf<string?>(null, "*", "\"1\"", "\"2\"", "W/\"1\"", "\"x\"", "1", "", "\"1\", \"2\"");

    [Fact]
    public Task CreateAnswersAsDocumentedAndRefusesExactlyWhatTheDocumentRefuses() =>
        Body.SampleAsync(async body =>
        {
            var document = await services.DocumentAsync();

            using var response = await services.Send(HttpMethod.Post, "/api/users", Bodies.Json(body.ToJsonString()));

            await AssertTruthfulAsync(document, "CreateUser", response, document.BodyErrors("CreateUser", body));
        }, iter: Iterations, threads: 1, print: body => body.ToJsonString());

    [Fact]
    public Task ReplaceAnswersAsDocumentedAndRefusesExactlyWhatTheDocumentRefuses() =>
        Gen.Select(Gen.Long[1, 40], Body, IfMatch).SampleAsync(async (id, body, ifMatch) =>
        {
            var document = await services.DocumentAsync();

            using var response = await services.Send(HttpMethod.Put, $"/api/users/{id}", Bodies.Json(body.ToJsonString()), ifMatch: ifMatch);

            await AssertTruthfulAsync(document, "UpdateUser", response, document.BodyErrors("UpdateUser", body));
        }, iter: Iterations, threads: 1, print: request => $"PUT /api/users/{request.Item1} If-Match: {request.Item3} {request.Item2.ToJsonString()}");

    [Fact]
    public Task ListAnswersAsDocumentedAndRefusesExactlyWhatTheDocumentRefuses() =>
        Gen.Select(Number.Null(), Number.Null(), Username.Null(), Email.Null()).SampleAsync(async (after, limit, username, email) =>
        {
            var document = await services.DocumentAsync();
            var parameters = new (string Name, string? Value)[] { ("after", after), ("limit", limit), ("username", username), ("email", email) }
                .Where(parameter => parameter.Value is not null).ToList();

            using var response = await services.Send(HttpMethod.Get, "/api/users?" + string.Join('&', parameters.Select(parameter => $"{parameter.Name}={Uri.EscapeDataString(parameter.Value!)}")));

            var errors = string.Join("\n", parameters
                .Select(parameter => (parameter.Name, Errors: document.ParameterErrors("ListUsers", parameter.Name, parameter.Value!)))
                .Where(parameter => parameter.Errors != "")
                .Select(parameter => $"{parameter.Name}: {parameter.Errors}"));
            await AssertTruthfulAsync(document, "ListUsers", response, errors);
        }, iter: Iterations, threads: 1, print: query => $"GET /api/users?after={query.Item1}&limit={query.Item2}&username={query.Item3}&email={query.Item4}");

    [Fact]
    public Task ReadAndDeleteByIdAnswerAsDocumentedForAnyId() =>
        Gen.Select(Id, IfMatch, Gen.Bool)
            .SampleAsync(async (id, ifMatch, delete) =>
            {
                var document = await services.DocumentAsync();
                var operationId = delete ? "DeleteUser" : "GetUser";

                using var response = await services.Send(delete ? HttpMethod.Delete : HttpMethod.Get, $"/api/users/{id}", ifMatch: delete ? ifMatch : null);

                // An id the document refuses names no user: its documented 404. A NUL in the path gets Kestrel's bare 400.
                await document.AssertConformsAsync(operationId, response);
            }, iter: Iterations, threads: 1, print: request => $"{(request.Item3 ? "DELETE" : "GET")} /api/users/{request.Item1} If-Match: {request.Item2}");

    /// <summary>The answer is one the document lists and matches it; it is 400 exactly when the document refuses the request.</summary>
    private static async Task AssertTruthfulAsync(ApiDocument document, string operationId, HttpResponseMessage response, string documentErrors)
    {
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(
            documentErrors == "" ? status != 400 : status == 400,
            documentErrors == ""
                ? $"The document accepts this request, but the service answered 400: {body}"
                : $"The document refuses this request ({documentErrors}), but the service answered {status}: {body}");
        await document.AssertConformsAsync(operationId, response);
    }
}
