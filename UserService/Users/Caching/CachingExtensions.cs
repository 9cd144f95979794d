using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.OutputCaching.StackExchangeRedis;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using UserService.Users.Store;

namespace UserService.Users.Caching;

public static class CachingExtensions
{
    /// <summary>The largest answer the cache keeps.</summary>
    public const long MaximumAnswerBytes = 512 * 1024;

    /// <summary>
    /// Cached reads, shared by every replica: the output cache lives in the same Redis as the users, through
    /// the same connection, under <see cref="UsersCachePolicy"/>; writes evict through <see cref="CachedReadsEviction"/>.
    /// </summary>
    public static IHostApplicationBuilder AddUsersCaching(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CachingOptions>()
            .BindConfiguration(CachingOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CachingOptions>, CachingOptionsValidator>();

        builder.Services.AddStackExchangeRedisOutputCache(_ => { });
        builder.Services.AddOptions<RedisOutputCacheOptions>()
            .Configure<IServiceProvider>((options, services) =>
                options.ConnectionMultiplexerFactory = () => Task.FromResult(services.GetRequiredService<IConnectionMultiplexer>()));
        builder.Services.AddOutputCache(options =>
        {
            options.AddPolicy(UsersCachePolicy.Name, new UsersCachePolicy());
            // A page of 1,000 users is about 200 KB; nothing larger is kept.
            options.MaximumBodySize = MaximumAnswerBytes;
        });

        // Every call to the cache's store goes through the store's breaker, as the users' own calls do.
        var redisStore = builder.Services.Last(service => service.ServiceType == typeof(IOutputCacheStore));
        builder.Services.Remove(redisStore);
        builder.Services.AddSingleton<IOutputCacheStore>(services => new BoundedOutputCacheStore(
            redisStore.ImplementationFactory?.Invoke(services) as IOutputCacheStore
                ?? (IOutputCacheStore)ActivatorUtilities.CreateInstance(services, redisStore.ImplementationType!),
            services.GetRequiredService<StoreBreaker>(),
            services.GetRequiredService<IConnectionMultiplexer>(),
            TimeProvider.System,
            services.GetRequiredService<IOptions<CachingOptions>>(),
            services.GetRequiredService<UsersTelemetry>(),
            services.GetRequiredService<ILogger<BoundedOutputCacheStore>>()));

        builder.Services.AddSingleton<CachedReadsEviction>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CachedReadsEviction>());

        return builder;
    }
}

/// <summary>Checks <see cref="CachingOptions"/>' validation attributes, generated at build time rather than by reflection.</summary>
[OptionsValidator]
public sealed partial class CachingOptionsValidator : IValidateOptions<CachingOptions>;

/// <summary>How much the output cache may hold.</summary>
public sealed class CachingOptions
{
    public const string SectionName = "Caching";

    /// <summary>
    /// Bytes of answers kept per 5-minute window, across every replica; at most twice this is alive at once.
    /// The default, 128 MiB, holds every page of 50 of a store of 10,000 users, and then some.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MaxBytesPerWindow { get; set; } = 128L * 1024 * 1024;
}
