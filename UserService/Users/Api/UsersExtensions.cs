using System.Text.Json.Serialization;
using UserService.Users.Caching;
using UserService.Users.Store;

namespace UserService.Users.Api;

public static class UsersExtensions
{
    /// <summary>The users feature: its store, its cached reads, its scopes, JSON contracts, validation, telemetry and seed.</summary>
    public static IHostApplicationBuilder AddUsers(this IHostApplicationBuilder builder)
    {
        builder.AddUserStore();
        builder.AddUsersCaching();
        builder.Services.AddSingleton<UsersTelemetry>();
        builder.Services.AddScoped<UsersWrites>();

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(UsersScopes.Read, policy => policy.RequireScope(UsersScopes.Read))
            .AddPolicy(UsersScopes.Write, policy => policy.RequireScope(UsersScopes.Write));

        builder.Services.AddValidation();
        builder.Services.Configure<RouteOptions>(options => options.SetParameterPolicy<NoInt64Constraint>(NoInt64Constraint.Name));
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, UsersJsonContext.Default);
            // Numbers are numbers: ids are written, read and documented as JSON integers, never as strings.
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            // A body is read one way only: {"username":"a","username":"b"} is refused, not taken as "b".
            options.SerializerOptions.AllowDuplicateProperties = false;
        });

        if (builder.Environment.IsDevelopment())
        {
            builder.Services.AddHostedService<DevelopmentSeed>();
        }

        return builder;
    }
}
