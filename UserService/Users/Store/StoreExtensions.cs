using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace UserService.Users.Store;

public static class StoreExtensions
{
    /// <summary>The connection string the store is reached through; the AppHost's cache resource provides it.</summary>
    public const string ConnectionName = "cache";

    /// <summary>The store: its Redis connection, its resilience, the migration of an older layout, and the repair that runs once after each store restart.</summary>
    public static IHostApplicationBuilder AddUserStore(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient(ConnectionName, configureOptions: StoreResilience.Configure);
        builder.AddStoreResilience();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<UserStore>();
        builder.Services.AddOptions<StoreReplicationOptions>()
            .BindConfiguration(StoreReplicationOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StoreReplicationOptions>, StoreReplicationOptionsValidator>();
        builder.Services.AddSingleton<StoreLayoutGate>();
        builder.Services.AddHealthChecks().AddCheck<StoreLayoutGate>("store-layout");
        builder.Services.AddOptions<StoreMigrationOptions>()
            .BindConfiguration(StoreMigrationOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StoreMigrationOptions>, StoreMigrationOptionsValidator>();
        // Before the repair and the seed, which wait for it: its start opens the store to requests.
        builder.Services.AddHostedService<StoreMigration>();
        builder.Services.AddOptions<StoreRepairOptions>()
            .BindConfiguration(StoreRepairOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StoreRepairOptions>, StoreRepairOptionsValidator>();
        builder.Services.AddHostedService<StoreRepair>();

        return builder;
    }
}
