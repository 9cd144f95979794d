using Microsoft.AspNetCore.OutputCaching.StackExchangeRedis;
using StackExchange.Redis;

namespace UserService.Users.Caching;

public static class CachingExtensions
{
    /// <summary>
    /// Cached reads, shared by every replica: the output cache lives in the same Redis as the users, through
    /// the same connection, under <see cref="UsersCachePolicy"/>; writes evict through <see cref="CachedReadsEviction"/>.
    /// </summary>
    public static IHostApplicationBuilder AddUsersCaching(this IHostApplicationBuilder builder)
    {
        builder.Services.AddStackExchangeRedisOutputCache(_ => { });
        builder.Services.AddOptions<RedisOutputCacheOptions>()
            .Configure<IServiceProvider>((options, services) =>
                options.ConnectionMultiplexerFactory = () => Task.FromResult(services.GetRequiredService<IConnectionMultiplexer>()));
        builder.Services.AddOutputCache(options => options.AddPolicy(UsersCachePolicy.Name, new UsersCachePolicy()));

        builder.Services.AddSingleton<CachedReadsEviction>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CachedReadsEviction>());

        return builder;
    }
}
