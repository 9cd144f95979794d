using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// Stands between the service and its Redis client, for tests that make the store answer otherwise than it
/// does: a subclass sees each call and may answer it itself, and passes the rest to the real client.
/// </summary>
public abstract class StoreClientProxy : DispatchProxy
{
    protected object Inner { get; private set; } = null!;

    /// <summary>Puts <typeparamref name="TProxy"/> in front of <paramref name="inner"/>.</summary>
    public static T Wrap<T, TProxy>(T inner, Action<TProxy>? configure = null)
        where T : class
        where TProxy : StoreClientProxy
    {
        var proxy = Create<T, TProxy>();
        ((StoreClientProxy)(object)proxy).Inner = inner;
        configure?.Invoke((TProxy)(object)proxy);
        return proxy;
    }

    /// <summary>Replaces the service's Redis client with <paramref name="wrap"/> of it.</summary>
    public static void Replace(IServiceCollection services, Func<IConnectionMultiplexer, IConnectionMultiplexer> wrap)
    {
        var registered = services.Last(service => service.ServiceType == typeof(IConnectionMultiplexer) && !service.IsKeyedService);
        services.Remove(registered);
        services.AddSingleton(provider => wrap((IConnectionMultiplexer)(registered.ImplementationInstance ?? registered.ImplementationFactory!(provider))));
    }

    /// <summary>Calls the real client, and throws what it throws rather than a <see cref="TargetInvocationException"/>.</summary>
    protected object? Forward(MethodInfo method, object?[]? args)
    {
        try
        {
            return method.Invoke(Inner, args);
        }
        catch (TargetInvocationException exception) when (exception.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(exception.InnerException);
            throw;
        }
    }
}
