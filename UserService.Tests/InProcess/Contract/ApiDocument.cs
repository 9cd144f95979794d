using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace UserService.Tests.InProcess.Contract;

/// <summary>
/// The OpenAPI document the service serves, used as a contract: it says which statuses an operation may
/// answer, and checks an answer's content type, headers and body against what it documents, with a
/// JSON Schema validator (OpenAPI 3.1 schemas are JSON Schema 2020-12).
/// </summary>
public sealed class ApiDocument(JsonNode document)
{
    /// <summary>Every operation: its id, method and path template.</summary>
    public IEnumerable<(string OperationId, string Method, string Path)> Operations =>
        from path in document["paths"]!.AsObject()
        from operation in path.Value!.AsObject()
        select ((string)operation.Value!["operationId"]!, operation.Key, path.Key);

    /// <summary>Every tag an operation carries, with the description the document's tag list gives it (null for none).</summary>
    public IEnumerable<(string Tag, string? Description)> Tags =>
        from path in document["paths"]!.AsObject()
        from operation in path.Value!.AsObject()
        from tag in operation.Value!["tags"]?.AsArray() ?? []
        let name = (string)tag!
        select (name, (string?)(document["tags"]?.AsArray() ?? []).FirstOrDefault(described => (string?)described!["name"] == name)?["description"]);

    /// <summary>The <c>format</c> the document gives <paramref name="member"/> of <paramref name="operationId"/>'s JSON body, if any.</summary>
    public string? BodyMemberFormat(string operationId, string member)
    {
        var schema = Operation(operationId)["requestBody"]!["content"]!["application/json"]!["schema"]!;
        if ((string?)schema["$ref"] is { } reference)
        {
            schema = document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!;
        }

        return (string?)schema["properties"]![member]!["format"];
    }

    /// <summary>The statuses <paramref name="operationId"/> documents.</summary>
    public IEnumerable<string> StatusesOf(string operationId) => Responses(operationId).Select(response => response.Key);

    /// <summary>Fails unless the document lists the answer's status for the operation and the answer matches it.</summary>
    public async Task AssertConformsAsync(string operationId, HttpResponseMessage response)
    {
        var status = ((int)response.StatusCode).ToString();
        var documented = Responses(operationId).FirstOrDefault(pair => pair.Key == status).Value
            ?? throw Xunit.Sdk.FailException.ForFailure($"{operationId} answered {status}, which the document does not list.");

        foreach (var (name, header) in documented["headers"]?.AsObject() ?? [])
        {
            var values = response.Headers.TryGetValues(name, out var found) ? found
                : response.Content.Headers.TryGetValues(name, out var onContent) ? onContent : null;
            if ((bool?)header!["required"] == true)
            {
                Assert.True(values is not null, $"{operationId} {status} lacks the documented header {name}.");
            }

            if (values is not null && (string?)header["schema"]!["type"] == "integer")
            {
                Assert.True(long.TryParse(values.Single(), out _), $"{operationId} {status}: {name} is not an integer.");
            }
        }

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        if (documented["content"] is not JsonObject content)
        {
            Assert.True(body.Length == 0, $"{operationId} {status} documents no body but sent: {body}");
            return;
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var schema = content.FirstOrDefault(pair => pair.Key == mediaType).Value?["schema"]
            ?? throw Xunit.Sdk.FailException.ForFailure($"{operationId} {status} answered {mediaType}, not one of {string.Join(", ", content.Select(pair => pair.Key))}.");
        var results = Compile(schema).Evaluate(JsonDocument.Parse(body).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(results.IsValid, $"{operationId} {status} does not match its schema: {body}\n{Errors(results)}");
    }

    /// <summary>
    /// What a client that validates from the document finds wrong with <paramref name="body"/> as the request
    /// body of <paramref name="operationId"/>, formats included; empty when the document accepts it.
    /// </summary>
    public string BodyErrors(string operationId, JsonNode? body) =>
        Errors(Operation(operationId)["requestBody"]!["content"]!["application/json"]!["schema"]!, body);

    /// <summary>
    /// What such a client finds wrong with <paramref name="value"/>, as sent, for the parameter
    /// <paramref name="name"/>; empty when the document accepts it. A parameter the document types as an
    /// integer is read as a JSON number when it is one.
    /// </summary>
    public string ParameterErrors(string operationId, string name, string value)
    {
        var schema = Operation(operationId)["parameters"]!.AsArray().Single(parameter => (string)parameter!["name"]! == name)!["schema"]!;
        var integer = (string?)schema["type"] == "integer" && System.Numerics.BigInteger.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, null, out _);
        return Errors(schema, integer ? JsonNode.Parse(value) : JsonValue.Create(value));
    }

    /// <summary>What the document's schema for <paramref name="operationId"/>'s <paramref name="status"/> answer finds wrong with <paramref name="body"/>.</summary>
    public string ResponseErrors(string operationId, int status, JsonNode body) =>
        Errors(Operation(operationId)["responses"]![status.ToString(System.Globalization.CultureInfo.InvariantCulture)]!["content"]!["application/problem+json"]!["schema"]!, body);

    /// <summary>Whether the document lists <paramref name="status"/> for <paramref name="operationId"/>.</summary>
    public bool Lists(string operationId, int status) => StatusesOf(operationId).Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private string Errors(JsonNode schema, JsonNode? instance)
    {
        var results = Compile(schema).Evaluate(
            JsonDocument.Parse(instance?.ToJsonString() ?? "null").RootElement,
            new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        return results.IsValid ? "" : Errors(results);
    }

    private JsonNode Operation(string operationId)
    {
        var (_, method, path) = Operations.Single(operation => operation.OperationId == operationId);
        return document["paths"]![path]![method]!;
    }

    private IEnumerable<KeyValuePair<string, JsonNode?>> Responses(string operationId) => Operation(operationId)["responses"]!.AsObject();

    /// <summary>The schema, with the document's components as its definitions so that references resolve.</summary>
    private JsonSchema Compile(JsonNode schema)
    {
        var root = schema.DeepClone().AsObject();
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        root["$defs"] = document["components"]!["schemas"]!.DeepClone();
        // JSON Schema's patterns are ECMA 262, whose $ matches at the end only; the validator runs them on .NET,
        // whose $ also matches before a final line feed, so every pattern's $ is read as .NET's \z.
        var text = root.ToJsonString()
            .Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal)
            .Replace("$\"", "\\\\z\"", StringComparison.Ordinal);
        return JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    }

    private static string Errors(EvaluationResults results) =>
        string.Join("\n", (results.Details ?? []).Where(detail => detail.Errors is not null)
            .SelectMany(detail => detail.Errors!.Select(error => $"{detail.InstanceLocation}: {error.Value}")));
}

/// <summary>Request bodies written as JSON text, valid or not.</summary>
internal static class Bodies
{
    public static StringContent Json(string json) => new(json, new MediaTypeHeaderValue("application/json"));
}
