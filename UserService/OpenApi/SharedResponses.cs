using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using UserService.Infrastructure;

namespace UserService.OpenApi;

/// <summary>
/// The answers that no handler returns but every operation can get, from the pipeline in front of it
/// (authentication, authorization, the rate limiter, the store's breaker, Kestrel's limits), each with
/// the body and headers it really has, plus the headers each endpoint declared with
/// <see cref="ResponseHeaders.ProducesHeader"/>.
/// </summary>
internal static class SharedResponses
{
    private const string ProblemJson = "application/problem+json";

    public static Task DocumentAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var responses = operation.Responses ??= new OpenApiResponses();
        var document = context.Document ?? throw new InvalidOperationException("Operations are transformed within a document.");
        var retryAfter = Header("Seconds to wait before retrying.", JsonSchemaType.Integer);

        Problem(responses, document, StatusCodes.Status401Unauthorized, "No valid bearer token.",
            (HeaderNames.WWWAuthenticate, Header("The bearer challenge, with the reason a token was refused.", JsonSchemaType.String)));
        Problem(responses, document, StatusCodes.Status403Forbidden, "The token lacks the scope this operation requires.");
        Problem(responses, document, StatusCodes.Status429TooManyRequests, "This caller made too many requests.", (HeaderNames.RetryAfter, retryAfter));
        var write = !HttpMethods.IsGet(context.Description.HttpMethod ?? HttpMethods.Get);
        Problem(responses, document, StatusCodes.Status503ServiceUnavailable,
            write
                ? "The user store cannot be reached, or did not answer in time. The member outcome says what became of the write: not-applied, or unknown (it may have been applied; retry with the same Idempotency-Key or If-Match)."
                : "The user store cannot be reached, or did not answer in time.",
            (HeaderNames.RetryAfter, retryAfter));
        if (write)
        {
            Extend(responses, StatusCodes.Status503ServiceUnavailable, document, StoreUnavailableException.OutcomeMember,
                new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("not-applied"), JsonValue.Create("unknown")] });
        }

        Problem(responses, document, StatusCodes.Status431RequestHeaderFieldsTooLarge,
            $"The request's headers exceed {RequestLimits.MaxHeaderBytes / 1024} KiB. Past {RequestLimits.KestrelMaxHeaderBytes / 1024} KiB, Kestrel answers before the service, with no body.");

        // Kestrel refuses a malformed request before any endpoint sees it, whichever it was for.
        const string Malformed = "a request malformed before the service sees it (a header byte that is not UTF-8, a NUL in the path) gets Kestrel's 400, with no body.";
        if (responses.TryGetValue(Status(StatusCodes.Status400BadRequest), out var invalid) && invalid is OpenApiResponse validation)
        {
            validation.Description = "A field is invalid: errors names each one, by its JSON name or parameter. Also, " + Malformed;
        }
        else
        {
            responses[Status(StatusCodes.Status400BadRequest)] = new OpenApiResponse { Description = "The request is malformed: " + Malformed };
        }

        if (context.Description.ParameterDescriptions.Any(parameter => parameter.Source == BindingSource.Body))
        {
            Problem(responses, document, StatusCodes.Status413PayloadTooLarge, $"The body exceeds {RequestLimits.MaxBodyBytes / 1024} KiB.");
            Problem(responses, document, StatusCodes.Status415UnsupportedMediaType, "The body is not application/json.");
        }

        // The original service answered an unknown user with {"error": "User not found"}; its clients read it.
        if (responses.TryGetValue(Status(StatusCodes.Status404NotFound), out var notFound) && notFound is OpenApiResponse notFoundResponse)
        {
            notFoundResponse.Description = "No user has this id (also an id that is not a 64-bit integer).";
            Extend(responses, StatusCodes.Status404NotFound, document, "error", new OpenApiSchema { Type = JsonSchemaType.String, Const = "User not found" });
        }

        foreach (var header in context.Description.ActionDescriptor.EndpointMetadata.OfType<ResponseHeaderMetadata>())
        {
            if (responses.TryGetValue(Status(header.StatusCode), out var response) && response is OpenApiResponse concrete)
            {
                concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
                concrete.Headers[header.Name] = Header(header.Description, JsonSchemaType.String, header.Always);
            }
        }

        return Task.CompletedTask;
    }

    private static void Problem(
        OpenApiResponses responses, OpenApiDocument document, int statusCode, string description, params (string Name, OpenApiHeader Header)[] headers)
    {
        responses[Status(statusCode)] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [ProblemJson] = new() { Schema = ProblemSchema(document) },
            },
            Headers = headers.Length == 0 ? null : headers.ToDictionary(header => header.Name, header => (IOpenApiHeader)header.Header),
        };
    }

    /// <summary>The response's problem details, with one more member it always carries.</summary>
    private static void Extend(OpenApiResponses responses, int statusCode, OpenApiDocument document, string member, OpenApiSchema schema) =>
        ((OpenApiResponse)responses[Status(statusCode)]).Content = new Dictionary<string, OpenApiMediaType>
        {
            [ProblemJson] = new()
            {
                Schema = new OpenApiSchema
                {
                    AllOf = [ProblemSchema(document)],
                    Required = new HashSet<string> { member },
                    Properties = new Dictionary<string, IOpenApiSchema> { [member] = schema },
                },
            },
        };

    private static OpenApiSchemaReference ProblemSchema(OpenApiDocument document) =>
        new(nameof(Microsoft.AspNetCore.Mvc.ProblemDetails), document);

    private static OpenApiHeader Header(string description, JsonSchemaType type, bool always = true) =>
        new() { Description = description, Required = always, Schema = new OpenApiSchema { Type = type } };

    private static string Status(int statusCode) => statusCode.ToString(CultureInfo.InvariantCulture);
}
