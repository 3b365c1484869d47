"""The k8s_apply action plugin: one kubernetes.core.k8s run, server-side apply, diffs lifted to the top."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest.mock import MagicMock

from ansible_collections.multimesh.istio.plugins.action.k8s_apply import ActionModule

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"x": "1"}}}
NS_B = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}


def make(args, k8s_result, diff=False, check=False):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.diff = diff
    task.check_mode = check
    play_context = MagicMock()
    play_context.diff = diff
    action = ActionModule(task, MagicMock(), play_context, loader=None, templar=None, shared_loader_obj=None)
    action._execute_module = MagicMock(return_value=k8s_result)
    return action


def test_one_module_run_with_server_side_apply():
    k8s = {"changed": True, "result": {"results": [
        {"changed": True, "result": NS, "diff": {"before": {}, "after": NS}},
        {"changed": False, "result": NS_B}]}}
    action = make({"definition": [NS, NS_B], "kubeconfig": "/k", "context": "c"}, k8s, diff=True)
    result = action.run(task_vars={})
    action._execute_module.assert_called_once()
    call = action._execute_module.call_args.kwargs
    assert call["module_name"] == "kubernetes.core.k8s"
    assert call["module_args"] == {"definition": [NS, NS_B], "state": "present", "wait": False, "apply": True,
                                   "kubeconfig": "/k", "context": "c",
                                   "server_side_apply": {"field_manager": "multimesh-istio", "force_conflicts": False}}
    assert result["changed"] is True
    assert result["msg"] == "1 of 2 object(s) changed"
    assert [o["name"] for o in result["objects"] if o["changed"]] == ["a"]
    assert len(result["diff"]) == 1 and result["diff"][0]["after_header"] == "Namespace a"


def test_no_diff_key_without_diff_mode_and_check_mode_wording():
    k8s = {"changed": True, "result": NS, "diff": {"before": {}, "after": NS}}
    result = make({"definition": [NS]}, k8s, check=True).run(task_vars={})
    assert "diff" not in result
    assert result["msg"] == "1 of 1 object(s) would change"


def test_absent_deletes_without_apply():
    action = make({"definition": [NS], "state": "absent"}, {"changed": True, "result": NS})
    action.run(task_vars={})
    args = action._execute_module.call_args.kwargs["module_args"]
    assert args["state"] == "absent" and "apply" not in args and "server_side_apply" not in args


def test_failure_is_passed_through():
    result = make({"definition": [NS]}, {"failed": True, "msg": "conflict with kubectl"}).run(task_vars={})
    assert result["failed"] is True and result["msg"] == "conflict with kubectl"


def test_empty_definition_changes_nothing_and_calls_nothing():
    action = make({"definition": []}, {})
    assert action.run(task_vars={})["changed"] is False
    action._execute_module.assert_not_called()


def test_unknown_option_fails():
    result = make({"definition": [NS], "kubecfg": "/k"}, {}).run(task_vars={})
    assert result["failed"] is True and "kubecfg" in result["msg"]
