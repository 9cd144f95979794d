using System.Globalization;
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
        Problem(responses, document, StatusCodes.Status503ServiceUnavailable,
            "The user store cannot be reached. For a write, the member outcome says whether it was applied: not-applied, or unknown.",
            (HeaderNames.RetryAfter, retryAfter));
        Problem(responses, document, StatusCodes.Status431RequestHeaderFieldsTooLarge,
            $"The request's headers exceed {RequestLimits.MaxHeaderBytes / 1024} KiB. Past {RequestLimits.KestrelMaxHeaderBytes / 1024} KiB, Kestrel answers before the service, with no body.");

        if (context.Description.ParameterDescriptions.Any(parameter => parameter.Source == BindingSource.Body))
        {
            Problem(responses, document, StatusCodes.Status413PayloadTooLarge, $"The body exceeds {RequestLimits.MaxBodyBytes / 1024} KiB.");
            Problem(responses, document, StatusCodes.Status415UnsupportedMediaType, "The body is not application/json.");
        }

        // The original service answered an unknown user with {"error": "User not found"}; its clients read it.
        if (responses.TryGetValue(Status(StatusCodes.Status404NotFound), out var notFound) && notFound is OpenApiResponse notFoundResponse)
        {
            notFoundResponse.Description = "No user has this id.";
            notFoundResponse.Content = new Dictionary<string, OpenApiMediaType>
            {
                [ProblemJson] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        AllOf = [ProblemSchema(document)],
                        Required = new HashSet<string> { "error" },
                        Properties = new Dictionary<string, IOpenApiSchema> { ["error"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = "User not found" } },
                    },
                },
            };
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

    private static OpenApiSchemaReference ProblemSchema(OpenApiDocument document) =>
        new(nameof(Microsoft.AspNetCore.Mvc.ProblemDetails), document);

    private static OpenApiHeader Header(string description, JsonSchemaType type, bool always = true) =>
        new() { Description = description, Required = always, Schema = new OpenApiSchema { Type = type } };

    private static string Status(int statusCode) => statusCode.ToString(CultureInfo.InvariantCulture);
}
