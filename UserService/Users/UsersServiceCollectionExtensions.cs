using System.Text.Json.Serialization;
using Microsoft.AspNetCore.OutputCaching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace UserService.Users;

public static class UsersServiceCollectionExtensions
{
    /// <summary>The users feature: its store and its repair, telemetry, JSON contracts, validation, cache and seed.</summary>
    public static IHostApplicationBuilder AddUsers(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<UsersTelemetry>();
        builder.Services.AddSingleton<UserStore>();
        builder.Services.AddHostedService<StoreRepair>();
        builder.Services.AddSingleton<CachedReadsEviction>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CachedReadsEviction>());
        builder.Services.AddScoped<UsersWrites>();

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(UsersScopes.Read, policy => policy.RequireScope(UsersScopes.Read))
            .AddPolicy(UsersScopes.Write, policy => policy.RequireScope(UsersScopes.Write));

        builder.Services.AddValidation();
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, UsersJsonContext.Default);
            // Numbers are numbers: ids are written, read and documented as JSON integers, never as strings.
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });

        // The output cache lives in the same Redis as the users, through the same connection.
        builder.Services.AddStackExchangeRedisOutputCache(_ => { });
        builder.Services.AddOptions<RedisOutputCacheOptions>()
            .Configure<IServiceProvider>((options, services) =>
                options.ConnectionMultiplexerFactory = () => Task.FromResult(services.GetRequiredService<IConnectionMultiplexer>()));
        builder.Services.AddOutputCache(options => options.AddPolicy(UsersCachePolicy.Name, new UsersCachePolicy()));

        if (builder.Environment.IsDevelopment())
        {
            builder.Services.AddHostedService<DevelopmentSeed>();
        }

        return builder;
    }
}
