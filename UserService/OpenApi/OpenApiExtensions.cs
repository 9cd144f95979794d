using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace UserService.OpenApi;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c>, with the bearer scheme and each operation's scopes, and
/// in Development the Scalar reference UI at <c>/scalar</c>, which can send a token.
/// </summary>
public static class OpenApiExtensions
{
    private const string SchemeName = "Bearer";

    /// <summary>Adds the document, with a description for each of <paramref name="tags"/>, the groups its operations are in.</summary>
    public static IHostApplicationBuilder AddApiDocument(this IHostApplicationBuilder builder, params IEnumerable<ApiTag> tags)
    {
        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "User service";
                document.Info.Summary = "Users, their usernames and emails, over REST.";
                document.Info.Description =
                    "Reads need the users:read scope, writes users:write, and every error is an RFC 9457 problem details " +
                    "answer. A replace or delete sent with an ETag in If-Match applies to that version only, and a create " +
                    "sent with an Idempotency-Key may be sent again: either is safe to retry.";
                document.Info.License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" };

                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A JWT from the configured issuer. In Development: dotnet user-jwts create --project UserService --scope users:read --scope users:write",
                };

                // Paths are relative to wherever the document is served from: the address a request
                // arrived on is an internal one behind a proxy.
                document.Servers = [new OpenApiServer { Url = "/", Description = "The service that serves this document." }];
                document.Tags = new HashSet<OpenApiTag>(tags.Select(tag => new OpenApiTag { Name = tag.Name, Description = tag.Description }));
                return Task.CompletedTask;
            });

            // Each authorization policy an endpoint requires is named after the scope it demands.
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAllowAnonymous>().Any())
                {
                    return Task.CompletedTask;
                }

                var scopes = metadata.OfType<IAuthorizeData>().Select(data => data.Policy).OfType<string>().Distinct().ToList();
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = scopes }];
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(SharedResponses.DocumentAsync);
            options.AddSchemaTransformer(ValidationSchemas.AlignAsync);
        });

        return builder;
    }

    public static WebApplication MapApiDocument(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();

        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference(options => options.AddPreferredSecuritySchemes(SchemeName)).AllowAnonymous();
        }

        return app;
    }
}

/// <summary>A group of operations in the document: the tag its endpoints carry, and what the group is.</summary>
public sealed record ApiTag(string Name, string Description);
